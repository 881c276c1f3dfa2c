using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Actors.Silo.Tests.Billing;

namespace Actors.Silo.Tests.Jobs;

/// <summary>A client waiting (<c>Prefer: wait</c>) on one silo for a job that runs on the other is
/// answered by the job's change: the job grain answers the reader's pending call, wherever each
/// lives. A reader that was not woken would answer at its time-out with the job unchanged.</summary>
public sealed class CrossSiloWaitTests(BillingCluster cluster, ITestOutputHelper output) : IClassFixture<BillingCluster>
{
    [Fact]
    public async Task AWaitOnOneSiloEndsWhenTheJobChangesOnTheOther()
    {
        var (_, key, _) = await cluster.ApiA.CreateTenantAsync("pro");
        var outcomes = new List<string>();
        for (var i = 0; i < 8; i++)
        {
            var (submit, wait) = i % 2 == 0 ? (cluster.ApiA, cluster.ApiB) : (cluster.ApiB, cluster.ApiA);
            var values = Enumerable.Range(0, 16).Select(v => (float)(v + (i * 100))).ToArray();
            var queued = await submit.SubmitOkAsync(key, ApiClient.Identity(values, seedTag: 9100 + i));
            var id = queued.GetProperty("id").GetString()!;
            var seen = queued.GetProperty("status").GetString();
            var clock = Stopwatch.StartNew();
            var status = seen;
            while (status is "queued" or "running" && clock.Elapsed < TimeSpan.FromSeconds(40))
            {
                using var response = await wait.GetAsync(key, $"/v1/jobs/{id}", wait: 20);
                var job = await response.Content.ReadFromJsonAsync<JsonElement>();
                status = job.GetProperty("status").GetString();
            }

            outcomes.Add($"{id}: {seen} → {status} in {clock.ElapsedMilliseconds} ms");
        }

        foreach (var outcome in outcomes)
        {
            output.WriteLine(outcome);
        }

        // Every wait ended with the job's end, long before its 20 s: each was woken by a change.
        Assert.All(outcomes, o => Assert.Contains("→ succeeded in", o, StringComparison.Ordinal));
        Assert.All(outcomes, o => Assert.True(int.Parse(o[(o.LastIndexOf(" in ", StringComparison.Ordinal) + 4)..^3], System.Globalization.CultureInfo.InvariantCulture) < 15_000, o));
    }
}
