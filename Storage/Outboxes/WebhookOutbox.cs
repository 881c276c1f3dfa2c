using System.Text.Json;
using Actors.Grains.Jobs;
using Actors.Grains.Stores;
using Actors.Storage.Sql;
using Dapper;

namespace Actors.Storage.Outboxes;

/// <summary>Webhook deliveries to make: one row per job and event (asking twice records one),
/// sent and retried by the control role's dispatcher, each attempt's outcome on its row.</summary>
public sealed class WebhookOutbox(SqlStore store, TimeProvider time) : IWebhookDeliveries
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The delivery a job's state owes, if any: an ended job with a webhook URL gets one
    /// row per event (<c>{job}.job.{status}</c>). Written by the job's own state write, in the same
    /// statement (<see cref="OrleansProviders.JobStateStorage"/>): a job that ended has its delivery,
    /// whichever process dies when; writing it again (a later write of the ended job) adds nothing.</summary>
    public static Delivery? For(JobSnapshot job, DateTimeOffset now)
    {
        if (!job.IsTerminal || job.Request?.WebhookUrl is not { } url)
        {
            return null;
        }

        var type = $"job.{job.Status.ToString().ToLowerInvariant()}";
        var payload = JsonSerializer.Serialize(new
        {
            type,
            timestamp = now,
            data = new
            {
                id = job.JobId,
                status = job.Status.ToString().ToLowerInvariant(),
                model = job.Model,
                reason = job.Reason,
                cacheHit = job.Result?.CacheHit,
                output = job.Status == JobStatus.Succeeded ? $"/v1/jobs/{job.JobId}/output" : null,
                finishedAt = job.FinishedAt,
            },
        }, Json);
        return new Delivery($"{job.JobId}.{type}", job.JobId, url, payload);
    }

    /// <summary>One delivery's row (<c>@Id, @Job, @Url, @Payload, @Now</c>); a second insert of the same id adds nothing.</summary>
    public const string InsertSql =
        """
        INSERT INTO webhook_deliveries (delivery_id, job_id, url, payload, status, next_attempt_ms, created_ms)
        VALUES (@Id, @Job, @Url, @Payload, 'pending', @Now, @Now) ON CONFLICT (delivery_id) DO NOTHING
        """;

    public sealed record Delivery(string Id, string Job, string Url, string Payload);

    public Task<IReadOnlyList<WebhookDelivery>> ListAsync(string? jobId, int limit) =>
        store.ReadAsync<IReadOnlyList<WebhookDelivery>>(async c => (await c.QueryAsync<(string Id, string Job, string Url, string Status, long Attempts, long? LastStatus, string? LastError)>(
            """
            SELECT delivery_id, job_id, url, status, attempts, last_status, last_error
            FROM webhook_deliveries WHERE (@Job IS NULL OR job_id = @Job) ORDER BY created_ms DESC LIMIT @Limit
            """, new { Job = jobId, Limit = limit }))
            .Select(d => new WebhookDelivery(d.Id, d.Job, d.Url, d.Status, (int)d.Attempts, (int?)d.LastStatus, d.LastError)).ToList());

    public Task<IReadOnlyList<DueWebhook>> ClaimDueAsync(int max, TimeSpan lease, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        return store.WriteAsync<IReadOnlyList<DueWebhook>>(async c => (await c.QueryAsync<(string Id, string Job, string Url, string Payload, int Attempts)>(
            $"""
            UPDATE webhook_deliveries SET lease_until_ms = @Until
            WHERE delivery_id IN (
                SELECT delivery_id FROM webhook_deliveries
                WHERE status = 'pending' AND next_attempt_ms <= @Now AND (lease_until_ms IS NULL OR lease_until_ms < @Now)
                ORDER BY next_attempt_ms LIMIT @Max{store.SkipLocked})
            RETURNING delivery_id, job_id, url, payload, attempts
            """, new { Until = now + (long)lease.TotalMilliseconds, Now = now, Max = max }))
            .Select(d => new DueWebhook(d.Id, d.Job, d.Url, d.Payload, d.Attempts)).ToList(), cancellationToken);
    }

    public Task DeferAsync(string deliveryId, DateTimeOffset at) =>
        store.WriteAsync(c => c.ExecuteAsync(
            "UPDATE webhook_deliveries SET next_attempt_ms = @At, lease_until_ms = NULL WHERE delivery_id = @Id AND status = 'pending'",
            new { At = at.ToUnixTimeMilliseconds(), Id = deliveryId }));

    public Task RecordAsync(DeliveryOutcome outcome) =>
        store.WriteAsync(c => c.ExecuteAsync(
            """
            UPDATE webhook_deliveries SET status = @Status, attempts = @Attempts, next_attempt_ms = @Next, last_status = @HttpStatus,
                last_error = @Error, delivered_ms = CASE WHEN @Status = 'delivered' THEN @At ELSE NULL END, lease_until_ms = NULL
            WHERE delivery_id = @Id
            """, new
            {
                outcome.Status, outcome.Attempts, Next = outcome.NextAttempt.ToUnixTimeMilliseconds(), outcome.HttpStatus, outcome.Error,
                At = outcome.At.ToUnixTimeMilliseconds(), outcome.Id,
            }));
}
