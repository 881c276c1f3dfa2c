using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Npgsql;

namespace Actors.Silo.Tests.Cluster;

/// <summary>kill -9 at the worst moments of a job's path, on real silo processes: the silo kills
/// itself at a named crash point (<c>Faults:KillAt</c>), so the test lands in the window every run.</summary>
public sealed partial class CrashPointTests
{
    [Fact]
    public async Task ASiloKilledBetweenAJobsEndAndItsEffectsLosesNeitherTheWebhookNorTheCharge()
    {
        var database = TestDatabases.Create("crashpoint");
        var blobs = TestBuckets.NewBucket();
        using var receiver = new WebhookReceiver();
        Dictionary<string, string> Settings(string roles, string instance) =>
            ClusterProcessTests.Billing(ClusterProcessTests.Gpu(ClusterProcessTests.Settings(database, roles, blobs), instance));

        // The doomed silo serves the API and runs jobs; the survivor has every role.
        var doomedSettings = Settings("api,gpu", "gpu-doomed");
        doomedSettings["Faults:KillAt"] = "job-ended";
        using var survivor = await SiloProcess.StartAsync(Settings("api,control,gpu", "gpu-survivor"));
        using var doomed = await SiloProcess.StartAsync(doomedSettings);
        var (tenant, key, _) = await new ApiClient(survivor.Http).CreateTenantAsync("pro");
        var api = new ApiClient(survivor.Http);
        var before = (await (await api.GetAsync(key, "/v1/usage")).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("balance").GetInt64();

        // Jobs through both silos' APIs until the doomed silo ends one of the jobs its grains hold
        // and dies at once, after that job's row committed and before anything else happened.
        var accepted = new List<string>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; !doomed.HasExited; i++)
        {
            Assert.True(i < 60 && clock.Elapsed < TimeSpan.FromSeconds(120), $"no job ended on the doomed silo after {i} jobs:\n{Tail(doomed.Output)}");
            var body = new
            {
                model = "identity",
                input = Convert.ToBase64String(BitConverter.GetBytes(i).Concat(new byte[60]).ToArray()),
                contentType = "application/octet-stream",
                parameters = new { shape = new[] { 1, 1, 16 }, seed = 70_000 + i },
                webhookUrl = receiver.Url,
            };
            string? id = null;
            foreach (var via in new[] { doomed, survivor }) // the client tries again elsewhere, same key
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/jobs") { Content = JsonContent.Create(body) };
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
                request.Headers.Add("Idempotency-Key", $"crash-{i}");
                request.Headers.Add("Prefer", "wait=5");
                try
                {
                    using var response = await via.Http.SendAsync(request);
                    if (response.IsSuccessStatusCode)
                    {
                        id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
                        break;
                    }
                }
                catch (HttpRequestException)
                {
                    // it died under this request
                }
            }

            if (id is not null)
            {
                accepted.Add(id);
            }
        }

        var crash = CrashLine().Match(doomed.Output);
        Assert.True(crash.Success, $"the doomed silo exited without reaching the crash point:\n{Tail(doomed.Output)}");
        var victim = crash.Groups["job"].Value;
        if (!accepted.Contains(victim))
        {
            accepted.Add(victim); // its submission's answer was lost with the silo, not the job
        }

        // Every job ends, the one caught at the crash point as it committed: succeeded, not run again.
        var finished = new Dictionary<string, JsonElement>();
        foreach (var id in accepted)
        {
            finished[id] = await api.WaitAsync(key, id, seconds: 120);
        }

        Assert.All(finished.Values, j => Assert.Equal("succeeded", j.GetProperty("status").GetString()));
        Assert.Equal(1, finished[victim].GetProperty("attempts").GetInt32());

        // Its webhook: delivered from the row written with its end, by the surviving silo.
        clock.Restart();
        List<string> Reported() => receiver.Received.Select(r => JsonDocument.Parse(r.Body).RootElement.GetProperty("data").GetProperty("id").GetString()!).ToList();
        while (!accepted.All(Reported().Contains) && clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            await Task.Delay(100);
        }

        Assert.True(accepted.All(Reported().Contains), $"not reported: {string.Join(",", accepted.Except(Reported()))}\n{Tail(survivor.Output)}");
        foreach (var deliveries in receiver.Received.GroupBy(r => JsonDocument.Parse(r.Body).RootElement.GetProperty("data").GetProperty("id").GetString()))
        {
            Assert.Single(deliveries.Select(d => d.Id).Distinct()); // a repeat (at least once) carries the same webhook-id
        }

        // Its charge: the tenant's reservation for it settled from its committed outcome, once.
        var (usage, ledger) = await TenantMoney.SettledAsync(api, key, survivor, tenant);
        var settled = ledger.GetProperty("entries").EnumerateArray().Where(e => e.GetProperty("kind").GetString() == "settle").Select(e => e.GetProperty("jobId").GetString()!).ToList();
        Assert.Equal(accepted.Order(), settled.Order());
        var price = await TenantMoney.PriceAsync(api, key, "identity");
        Assert.Equal(accepted.Count * price, before - usage.GetProperty("balance").GetInt64() + usage.GetProperty("overageThisPeriod").GetInt64());

        // Its queue row: gone (the dead host's lease recovered, the ended job's start refused).
        clock.Restart();
        long left;
        do
        {
            await using var connection = new NpgsqlConnection(database);
            await connection.OpenAsync();
            await using var count = new NpgsqlCommand("SELECT count(*) FROM job_queue", connection);
            left = (long)(await count.ExecuteScalarAsync())!;
            if (left == 0)
            {
                break;
            }

            await Task.Delay(250);
        }
        while (clock.Elapsed < TimeSpan.FromSeconds(90));

        Assert.True(left == 0, $"{left} queue rows left\n{Tail(survivor.Output)}");
    }

    private static string Tail(string output) => output[^Math.Min(4000, output.Length)..];

    [GeneratedRegex("crash point job-ended reached at (?<job>\\S+): killing")]
    private static partial Regex CrashLine();
}
