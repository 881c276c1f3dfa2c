using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json;

namespace Actors.Silo.Tests.Cluster;

/// <summary>kill -9 of the embedded silo in the middle of a burst, then a restart on the same data
/// folder: every accepted job runs and is charged once, and what was running when it died is
/// settled within seconds of the restarted silo being ready — by recovery at start (the dead
/// process's leases end on the first control pass, the tenants with open reservations are woken),
/// not by a lease lapsing (15 s) or the reservations reminder's next tick (60 s, left at its
/// default here so it cannot be what settles them).</summary>
public sealed class EmbeddedRestartTests(ITestOutputHelper output)
{
    /// <summary>How soon after ready the last of the jobs accepted before the kill must be settled.</summary>
    private static readonly TimeSpan SettledWithin = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task AfterAKillMidBurstWhatWasRunningIsSettledWithinSecondsOfReady()
    {
        var data = Directory.CreateTempSubdirectory("actors-restart-").FullName;
        (string, string)[] settings = [("Cluster:DataPath", data), ("Billing:ReservationGraceSeconds", "2")];
        try
        {
            var accepted = new ConcurrentDictionary<string, string>(); // job id → what it is
            string tenant, key;
            using (var first = await SiloProcess.StartEmbeddedAsync("restart", settings))
            {
                var api = new ApiClient(first.Http);
                (tenant, key, _) = await api.CreateTenantAsync("pro");

                // Diffusion jobs slow enough to be running when the silo dies, identity jobs around them.
                var bodies = Enumerable.Range(0, 8).Select(i => ($"diffusion-{i}", (object)new { model = "diffusion", parameters = new { prompt = "red circle", steps = 5, seed = 7_000 + i } }))
                    .Concat(Enumerable.Range(0, 24).Select(i => ($"identity-{i}", ApiClient.Identity(new float[16], 9_000 + i))))
                    .ToList();
                var sending = Parallel.ForEachAsync(bodies, new ParallelOptions { MaxDegreeOfParallelism = 6 }, async (b, ct) =>
                {
                    try
                    {
                        using var response = await api.SubmitAsync(key, b.Item2, idempotencyKey: b.Item1);
                        if (response.IsSuccessStatusCode)
                        {
                            accepted[(await response.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("id").GetString()!] = b.Item1;
                        }
                    }
                    catch (HttpRequestException)
                    {
                        // sent as the silo died: neither accepted nor refused
                    }
                });

                // Kill once something is running (a job leased by the process about to die).
                var clock = System.Diagnostics.Stopwatch.StartNew();
                while (clock.Elapsed < TimeSpan.FromSeconds(60))
                {
                    using var list = await api.GetAsync(key, "/v1/jobs?status=running&limit=10");
                    if ((await list.Content.ReadFromJsonAsync<JsonElement>()).GetArrayLength() > 0)
                    {
                        break;
                    }

                    await Task.Delay(50);
                }

                first.Kill();
                await sending;
            }

            Assert.True(accepted.Count >= 4, $"only {accepted.Count} submissions were accepted before the kill");
            using var second = await SiloProcess.StartEmbeddedAsync("restart", settings);
            var ready = DateTimeOffset.UtcNow;
            var after = new ApiClient(second.Http);

            var outcomes = new List<string>();
            foreach (var (id, what) in accepted)
            {
                var job = await after.WaitAsync(key, id, seconds: 120);
                outcomes.Add($"{what} {id}: {job.GetProperty("status").GetString()} after {job.GetProperty("attempts").GetInt32()} attempt(s)");
                Assert.True(job.GetProperty("status").GetString() == "succeeded", string.Join("\n", outcomes));
            }

            // Every reservation closed (those of submissions cut off by the kill released), the
            // ledger equal to the balances, each accepted job charged exactly once.
            JsonElement usage = default;
            var wait = System.Diagnostics.Stopwatch.StartNew();
            while (wait.Elapsed < TimeSpan.FromSeconds(60))
            {
                usage = await (await after.GetAsync(key, "/v1/usage")).Content.ReadFromJsonAsync<JsonElement>();
                if (usage.GetProperty("reservations").GetInt32() == 0)
                {
                    break;
                }

                await Task.Delay(200);
            }

            using var ledgerRequest = SiloFactory.AdminRequest(HttpMethod.Get, $"/admin/tenants/{tenant}/ledger?limit=1000");
            var ledger = await (await second.Http.SendAsync(ledgerRequest)).Content.ReadFromJsonAsync<JsonElement>();
            var entries = ledger.GetProperty("entries").EnumerateArray().ToList();
            var shown = $"{string.Join("\n", outcomes)}\nready at {ready:HH:mm:ss.fff}\n{ledger}\n--- silo log ---\n{second.Output[^Math.Min(5000, second.Output.Length)..]}";
            Assert.True(usage.GetProperty("reservations").GetInt32() == 0, $"open reservations: {usage}\n{shown}");
            Assert.True(ledger.GetProperty("consistent").GetBoolean(), shown);
            var settled = entries.Where(e => e.GetProperty("kind").GetString() == "settle").ToList();
            var settledIds = settled.Select(e => e.GetProperty("jobId").GetString()!).ToList();
            Assert.Equal(settledIds.Count, settledIds.Distinct().Count()); // none charged twice
            Assert.Empty(accepted.Keys.Except(settledIds)); // every accepted job charged (a submission whose answer the kill cut off may be a job too)

            // The time that matters: the accepted jobs' last settlement, measured from ready.
            var last = settled.Max(e => e.GetProperty("at").GetDateTimeOffset());
            output.WriteLine($"{accepted.Count} accepted before the kill, {settled.Count} charged; the last settlement {(last - ready).TotalSeconds:0.00} s after ready");
            Assert.True(last - ready <= SettledWithin, $"the last settlement came {(last - ready).TotalSeconds:0.0} s after ready (at most {SettledWithin.TotalSeconds} s)\n{shown}");
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }
}
