using System.Net.Http.Json;
using System.Text.Json;
using Actors.Grains.Jobs;
using Microsoft.Extensions.DependencyInjection;

namespace Actors.Silo.Tests.Jobs;

/// <summary>The embedded silo with no webhook host allowed inside (the tests' others allow 127.0.0.1).</summary>
public sealed class InsideWebhooksRefusedFactory : SiloFactory
{
    protected override IEnumerable<(string Key, string Value)> Settings() => [("Webhooks:AllowedHosts:0", "receiver.example")];
}

/// <summary>A receiver whose name passed the check at submission but resolves inside when the
/// webhook is sent (DNS rebinding, or a URL stored before the check): the delivery fails at once
/// with its reason, after one attempt, instead of eight over hours; nothing reaches the receiver.</summary>
public sealed class WebhookRefusedAtDeliveryTests(InsideWebhooksRefusedFactory factory) : IClassFixture<InsideWebhooksRefusedFactory>
{
    [Fact]
    public async Task ADestinationRefusedAtConnectionFailsAtOnceWithItsReason()
    {
        using var receiver = new WebhookReceiver();
        var api = new ApiClient(factory.CreateClient());
        var (tenant, _, _) = await api.CreateTenantAsync("pro");
        var models = await (await api.Http.SendAsync(SiloFactory.AdminRequest(HttpMethod.Get, "/v1/models"))).Content.ReadFromJsonAsync<JsonElement>();
        var version = models.EnumerateArray().Single(m => m.GetProperty("name").GetString() == "diffusion").GetProperty("version").GetString()!;

        // "localhost" by name: the API refuses it as written, so the job goes to its grain directly,
        // as one stored before that check would be; the connection resolves it to loopback.
        var url = new UriBuilder(receiver.Url) { Host = "localhost" }.Uri.AbsoluteUri;
        var jobId = "job_refused_" + Guid.NewGuid().ToString("N")[..8];
        var grains = factory.Services.GetRequiredService<IGrainFactory>();
        await grains.GetGrain<IJobGrain>(jobId).SubmitAsync(new JobRequest
        {
            TenantId = tenant, Model = "diffusion", ModelVersion = version, Tier = 2, WebhookUrl = url,
            Parameters = new JobParameters { Prompt = "red circle", Steps = 2, Seed = 77 },
        });

        JsonElement delivery = default;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            using var list = await api.Http.SendAsync(SiloFactory.AdminRequest(HttpMethod.Get, $"/admin/webhooks?job={jobId}"));
            var rows = await list.Content.ReadFromJsonAsync<JsonElement>();
            if (rows.GetArrayLength() == 1 && rows[0].GetProperty("status").GetString() != "pending")
            {
                delivery = rows[0];
                break;
            }

            await Task.Delay(100);
        }

        Assert.True(delivery.ValueKind == JsonValueKind.Object, $"no finished delivery of {jobId} in 60 s");
        Assert.Equal(("failed", 1), (delivery.GetProperty("status").GetString(), delivery.GetProperty("attempts").GetInt32()));
        var error = delivery.GetProperty("lastError").GetString()!;
        Assert.Contains("webhook destination refused", error, StringComparison.Ordinal);
        Assert.Contains("not a public address", error, StringComparison.Ordinal);
        Assert.Empty(receiver.Received);
    }
}
