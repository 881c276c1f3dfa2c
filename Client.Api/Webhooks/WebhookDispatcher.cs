using System.Net.Http.Headers;
using System.Text;
using Actors.Grains;
using Actors.Grains.Diagnostics;
using Actors.Grains.Jobs;
using Actors.Grains.Stores;
using Actors.Grains.Tenants;
using Microsoft.Extensions.Logging;

namespace Actors.Client.Api.Webhooks;

/// <summary>Sends due webhook deliveries (the control role runs a pass every second): signed per
/// Standard Webhooks with the tenant's secret, 2xx = delivered, anything else retried with
/// backoff (5 s, 30 s, 2 min, 10 min, 30 min, 1 h, 2 h) and failed after 8 attempts. Every
/// attempt's outcome is recorded on the delivery row.</summary>
public sealed partial class WebhookDispatcher(IWebhookDeliveries deliveries, IGrainFactory grains, IHttpClientFactory http, TimeProvider time, ILogger<WebhookDispatcher> logger)
{
    public const int MaxAttempts = 8;

    private static readonly TimeSpan[] Backoff =
    [
        TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(10),
        TimeSpan.FromMinutes(30), TimeSpan.FromHours(1), TimeSpan.FromHours(2),
    ];

    public async Task<int> DeliverDueAsync(CancellationToken cancellationToken = default)
    {
        var due = await deliveries.ClaimDueAsync(32, TimeSpan.FromMinutes(1), cancellationToken);
        await Parallel.ForEachAsync(due, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken },
            async (d, ct) => await DeliverAsync(d.DeliveryId, d.JobId, d.Url, d.Payload, d.Attempts, ct));
        return due.Count;
    }

    private async Task DeliverAsync(string deliveryId, string jobId, string url, string payload, int attempts, CancellationToken ct)
    {
        int? status = null;
        string? error = null;
        try
        {
            var job = await grains.GetGrain<IJobGrain>(jobId).GetAsync();
            var secret = await grains.GetGrain<ITenantGrain>(job.TenantId.Length > 0 ? job.TenantId : "-").GetWebhookSecretAsync()
                ?? throw new InvalidOperationException("the job's tenant has no webhook secret");
            var timestamp = time.GetUtcNow().ToUnixTimeSeconds();
            using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(payload, Encoding.UTF8) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            request.Headers.Add("webhook-id", deliveryId);
            request.Headers.Add("webhook-timestamp", timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
            request.Headers.Add("webhook-signature", WebhookSigner.Sign(secret, deliveryId, timestamp, payload));
            using var response = await http.CreateClient("webhooks").SendAsync(request, ct);
            status = (int)response.StatusCode;
            if (!response.IsSuccessStatusCode)
            {
                error = $"HTTP {status}";
            }
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or InvalidOperationException)
        {
            error = e.Message;
        }

        var attempt = attempts + 1;
        var now = time.GetUtcNow();
        var outcome = error is null ? "delivered" : attempt >= MaxAttempts ? "failed" : "pending";
        ActorsMetrics.WebhookDeliveries.Add(1, new KeyValuePair<string, object?>("result", error is null ? "delivered" : attempt >= MaxAttempts ? "failed" : "retry"));
        var next = error is null || attempt >= MaxAttempts ? now : now + Backoff[Math.Min(attempt - 1, Backoff.Length - 1)];
        if (error is not null)
        {
            LogAttemptFailed(logger, deliveryId, attempt, error);
        }

        await deliveries.RecordAsync(new DeliveryOutcome(deliveryId, outcome, attempt, next, now, status, error));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "webhook {DeliveryId} attempt {Attempt} failed: {Error}")]
    private static partial void LogAttemptFailed(ILogger logger, string deliveryId, int attempt, string error);
}
