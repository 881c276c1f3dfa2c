using System.Text.Json;
using Actors.Storage.Sql;
using Dapper;

namespace Actors.Grains.Jobs;

/// <summary>Webhook deliveries to make: one row per job and event (asking twice records one),
/// sent and retried by the control role's dispatcher.</summary>
public sealed class WebhookOutbox(SqlStore store, TimeProvider time)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public Task EnqueueAsync(JobSnapshot job)
    {
        if (job.Request?.WebhookUrl is not { } url)
        {
            return Task.CompletedTask;
        }

        var type = $"job.{job.Status.ToString().ToLowerInvariant()}";
        var now = time.GetUtcNow();
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
        return store.WriteAsync(c => c.ExecuteAsync(
            """
            INSERT INTO webhook_deliveries (delivery_id, job_id, url, payload, status, next_attempt_ms, created_ms)
            VALUES (@Id, @Job, @Url, @Payload, 'pending', @Now, @Now) ON CONFLICT (delivery_id) DO NOTHING
            """, new { Id = $"{job.JobId}.{type}", Job = job.JobId, Url = url, Payload = payload, Now = now.ToUnixTimeMilliseconds() }));
    }
}
