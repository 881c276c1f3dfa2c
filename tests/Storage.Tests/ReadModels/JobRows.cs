using Actors.Grains.Jobs;
using Actors.Storage.Sql;
using Dapper;

namespace Actors.Storage.Tests.ReadModels;

/// <summary>Writes a job's listing row directly, for tests of what reads the jobs table (the
/// silo writes it only through the job grain's state, <c>JobStateStorage</c>). Shared by the
/// Storage and Grains tests (linked source).</summary>
public static class JobRows
{
    public static Task UpsertAsync(SqlStore store, JobSnapshot job, DateTimeOffset now) =>
        store.WriteAsync(c => c.ExecuteAsync(
            """
            INSERT INTO jobs (job_id, tenant_id, model, tier, status, created_ms, updated_ms, cache_hit, run_ms, wait_ms)
            VALUES (@Id, @Tenant, @Model, @Tier, @Status, @Now, @Now, @CacheHit, @RunMs, @WaitMs)
            ON CONFLICT (job_id) DO UPDATE SET status = excluded.status, updated_ms = excluded.updated_ms,
                cache_hit = excluded.cache_hit, run_ms = excluded.run_ms, wait_ms = excluded.wait_ms
            """, new
            {
                Id = job.JobId, Tenant = job.TenantId, Model = job.Model, job.Tier, Status = job.Status.ToString(), Now = now.ToUnixTimeMilliseconds(),
                CacheHit = job.Result?.CacheHit == true ? 1 : 0,
                RunMs = job.Result is { CacheHit: false } r ? r.RunMs : (double?)null,
                WaitMs = job.StartedAt is { } started && job.QueuedAt is { } queued ? (long)(started - queued).TotalMilliseconds : (long?)null,
            }));

    public static Task RemoveAsync(SqlStore store, string jobId) =>
        store.WriteAsync(c => c.ExecuteAsync("DELETE FROM jobs WHERE job_id = @Id", new { Id = jobId }));
}
