using System.Net.Http.Headers;
using System.Text;
using Actors.Grains;
using Actors.Grains.Jobs;
using Actors.Grains.Tenants;
using Actors.Storage.Sql;
using Dapper;
using Microsoft.Extensions.Logging;

namespace Actors.Client.Api.Webhooks;

/// <summary>Sends due webhook deliveries (the control role runs a pass every second): signed per
/// Standard Webhooks with the tenant's secret, 2xx = delivered, anything else retried with
/// backoff (5 s, 30 s, 2 min, 10 min, 30 min, 1 h, 2 h) and failed after 8 attempts. Every
/// attempt's outcome is recorded on the delivery row.</summary>
public sealed partial class WebhookDispatcher(SqlStore store, IGrainFactory grains, IHttpClientFactory http, TimeProvider time, ILogger<WebhookDispatcher> logger)
{
    public const int MaxAttempts = 8;

    private static readonly TimeSpan[] Backoff =
    [
        TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(10),
        TimeSpan.FromMinutes(30), TimeSpan.FromHours(1), TimeSpan.FromHours(2),
    ];

    public async Task<int> DeliverDueAsync(CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var due = await store.WriteAsync(async c => (await c.QueryAsync<(string Id, string Job, string Url, string Payload, int Attempts)>(
            $"""
            UPDATE webhook_deliveries SET lease_until_ms = @Until
            WHERE delivery_id IN (
                SELECT delivery_id FROM webhook_deliveries
                WHERE status = 'pending' AND next_attempt_ms <= @Now AND (lease_until_ms IS NULL OR lease_until_ms < @Now)
                ORDER BY next_attempt_ms LIMIT 32{store.SkipLocked})
            RETURNING delivery_id, job_id, url, payload, attempts
            """, new { Until = now + 60_000, Now = now })).ToList(), cancellationToken);
        await Parallel.ForEachAsync(due, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken },
            async (d, ct) => await DeliverAsync(d.Id, d.Job, d.Url, d.Payload, d.Attempts, ct));
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
        Actors.Storage.Diagnostics.ActorsMetrics.WebhookDeliveries.Add(1, new KeyValuePair<string, object?>("result", error is null ? "delivered" : attempt >= MaxAttempts ? "failed" : "retry"));
        var next = error is null || attempt >= MaxAttempts ? now : now + Backoff[Math.Min(attempt - 1, Backoff.Length - 1)];
        if (error is not null)
        {
            LogAttemptFailed(logger, deliveryId, attempt, error);
        }

        await store.WriteAsync(c => c.ExecuteAsync(
            """
            UPDATE webhook_deliveries SET status = @Outcome, attempts = @Attempt, next_attempt_ms = @Next, last_status = @Status,
                last_error = @Error, delivered_ms = CASE WHEN @Outcome = 'delivered' THEN @Now ELSE NULL END, lease_until_ms = NULL
            WHERE delivery_id = @Id
            """, new { Outcome = outcome, Attempt = attempt, Next = next.ToUnixTimeMilliseconds(), Status = status, Error = error, Now = now.ToUnixTimeMilliseconds(), Id = deliveryId }), CancellationToken.None);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "webhook {DeliveryId} attempt {Attempt} failed: {Error}")]
    private static partial void LogAttemptFailed(ILogger logger, string deliveryId, int attempt, string error);
}
