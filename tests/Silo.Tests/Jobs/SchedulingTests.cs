using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Actors.Client.Api.Webhooks;

namespace Actors.Silo.Tests.Jobs;

/// <summary>A silo whose GPU host runs one job of a model at a time: the host is easy to keep busy.</summary>
public sealed class SingleSlotSiloFactory : SiloFactory
{
    protected override IEnumerable<(string Key, string Value)> Settings() => [("Cluster:MaxInFlightPerModel", "1")];
}

public sealed class SchedulingTests(SingleSlotSiloFactory factory) : IClassFixture<SingleSlotSiloFactory>
{
    private ApiClient Api => new(factory.CreateClient());

    [Fact]
    public async Task ProJobsOvertakeQueuedFreeJobsAndFreeStillFinishes()
    {
        var (_, free, _) = await Api.CreateTenantAsync("free");
        var (_, pro, _) = await Api.CreateTenantAsync("pro");
        var blocker = await Api.SubmitOkAsync(free, Diffusion(200, 1000)); // keeps the one slot busy
        await WaitForStatusAsync(free, Id(blocker), "running");

        var frees = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            frees.Add(Id(await Api.SubmitOkAsync(free, Diffusion(2, 2000 + i))));
        }

        var pros = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            pros.Add(Id(await Api.SubmitOkAsync(pro, Diffusion(2, 3000 + i))));
        }

        Assert.Equal("running", (await Status(free, Id(blocker))).GetProperty("status").GetString()); // all queued behind it
        var proStarts = new List<DateTimeOffset>();
        foreach (var id in pros)
        {
            proStarts.Add(Started(await Api.WaitAsync(pro, id, seconds: 300))); // behind a 200-step blocker: slow on a busy 2-core box
        }

        var freeStarts = new List<DateTimeOffset>();
        foreach (var id in frees)
        {
            var job = await Api.WaitAsync(free, id, seconds: 300);
            Assert.Equal("succeeded", job.GetProperty("status").GetString());
            freeStarts.Add(Started(job));
        }

        Assert.True(proStarts.Max() < freeStarts.Min(), $"pro started {string.Join(", ", proStarts)}; free {string.Join(", ", freeStarts)}");
        Assert.Equal(freeStarts.Order(), freeStarts); // among equals, first come first served
    }

    [Fact]
    public async Task AWebhookIsSignedRetriedAndRecorded()
    {
        using var receiver = new WebhookReceiver();
        receiver.Statuses.Enqueue(HttpStatusCode.ServiceUnavailable); // the first try fails
        var (_, key, secret) = await Api.CreateTenantAsync("premium");
        var job = await Api.SubmitOkAsync(key, new
        {
            model = "identity",
            input = Convert.ToBase64String(new byte[64]),
            contentType = "application/octet-stream",
            parameters = new { shape = new[] { 1, 1, 16 }, seed = 606 },
            webhookUrl = receiver.Url,
        }, wait: 30);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (receiver.Received.Count < 2 && clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(100);
        }

        var received = receiver.Received.ToArray();
        Assert.Equal(2, received.Length);
        Assert.All(received, r => Assert.True(WebhookSigner.Verify(secret, r.Id, long.Parse(r.Timestamp, CultureInfo.InvariantCulture), r.Body, r.Signature)));
        Assert.False(WebhookSigner.Verify(secret, received[1].Id, long.Parse(received[1].Timestamp, CultureInfo.InvariantCulture), received[1].Body + " ", received[1].Signature));
        var payload = JsonDocument.Parse(received[1].Body).RootElement;
        Assert.Equal("job.succeeded", payload.GetProperty("type").GetString());
        Assert.Equal(Id(job), payload.GetProperty("data").GetProperty("id").GetString());

        using var request = new HttpRequestMessage(HttpMethod.Get, $"/admin/webhooks?job={Id(job)}");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", SiloFactory.AdminKey);
        var deliveries = await (await Api.Http.SendAsync(request)).Content.ReadFromJsonAsync<JsonElement>();
        var delivery = Assert.Single(deliveries.EnumerateArray());
        Assert.Equal(("delivered", 2, 200), (delivery.GetProperty("status").GetString(), delivery.GetProperty("attempts").GetInt32(), delivery.GetProperty("lastStatus").GetInt32()));
    }

    /// <summary>One tenant's receiver holds its answers with a dozen webhooks due; another
    /// tenant's webhook still goes: at most 4 go to one destination at a time, and the rest
    /// wait behind. No clock decides it: while the slow receiver holds, no slot to it frees
    /// (the sender's time-out is 10 s), so the fast webhook arriving while the slow one has
    /// seen exactly 4 means it did not wait for any of them.</summary>
    [Fact]
    public async Task ASlowReceiverDelaysOnlyItsOwnWebhooks()
    {
        using var slow = new SlowReceiver();
        using var fast = new WebhookReceiver();
        try
        {
            var (_, slowKey, _) = await Api.CreateTenantAsync("pro");
            var (_, fastKey, _) = await Api.CreateTenantAsync("pro");
            object Job(int seed, string url) => new
            {
                model = "identity", input = Convert.ToBase64String(new byte[64]), contentType = "application/octet-stream",
                parameters = new { shape = new[] { 1, 1, 16 }, seed }, webhookUrl = url,
            };

            await Task.WhenAll(Enumerable.Range(0, 12).Select(i => Api.SubmitOkAsync(slowKey, Job(7_000 + i, slow.Url), wait: 30)));
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (slow.Received < 4 && clock.Elapsed < TimeSpan.FromSeconds(30))
            {
                await Task.Delay(50);
            }

            Assert.Equal(4, slow.Received);
            await Api.SubmitOkAsync(fastKey, Job(7_100, fast.Url), wait: 30);
            clock.Restart();
            while (fast.Received.IsEmpty && clock.Elapsed < TimeSpan.FromSeconds(30))
            {
                await Task.Delay(50);
            }

            var slowSeen = slow.Received;
            Assert.False(fast.Received.IsEmpty, "the other tenant's webhook never came");
            Assert.True(slowSeen == 4, $"the other tenant's webhook came after {slowSeen} to the held receiver: it waited for a slot to free");
            Assert.Equal(4, slow.MostOpen);

            slow.Release();
            clock.Restart();
            while (slow.Received < 12 && clock.Elapsed < TimeSpan.FromSeconds(60))
            {
                await Task.Delay(50);
            }

            Assert.True(slow.Received >= 12, $"the held receiver's webhooks stopped at {slow.Received} of 12 after it answered");
            Assert.InRange(slow.MostOpen, 1, 4);
        }
        finally
        {
            slow.Release();
        }
    }

    private static object Diffusion(int steps, int seed) => new { model = "diffusion", parameters = new { steps, seed } };

    private static string Id(JsonElement job) => job.GetProperty("id").GetString()!;

    private static DateTimeOffset Started(JsonElement job) =>
        job.GetProperty("startedAt").ValueKind == JsonValueKind.String ? job.GetProperty("startedAt").GetDateTimeOffset() : throw new Xunit.Sdk.XunitException($"job never started: {job}");

    private async Task<JsonElement> Status(string key, string id) =>
        await (await Api.GetAsync(key, $"/v1/jobs/{id}")).Content.ReadFromJsonAsync<JsonElement>();

    private async Task WaitForStatusAsync(string key, string id, string status)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while ((await Status(key, id)).GetProperty("status").GetString() != status)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"job {id} never became {status}");
            await Task.Delay(10);
        }
    }
}
