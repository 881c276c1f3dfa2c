using Actors.Grains.Jobs;
using Actors.Storage.Sql;
using Dapper;

namespace Actors.Grains.Jobs;

/// <summary>A row per job (tenant, model, status, times) kept by its grain, so jobs can be listed
/// and swept without a turn per job. The grain's state is the truth; this is its index.</summary>
public sealed class JobIndex(SqlStore store, TimeProvider time)
{
    public Task UpsertAsync(JobSnapshot job) =>
        store.WriteAsync(c => c.ExecuteAsync(
            """
            INSERT INTO jobs (job_id, tenant_id, model, tier, status, created_ms, updated_ms, cache_hit, run_ms, wait_ms)
            VALUES (@Id, @Tenant, @Model, @Tier, @Status, @Now, @Now, @CacheHit, @RunMs, @WaitMs)
            ON CONFLICT (job_id) DO UPDATE SET status = excluded.status, updated_ms = excluded.updated_ms,
                cache_hit = excluded.cache_hit, run_ms = excluded.run_ms, wait_ms = excluded.wait_ms
            """, new
            {
                Id = job.JobId, Tenant = job.TenantId, Model = job.Model, job.Tier, Status = job.Status.ToString(), Now = time.GetUtcNow().ToUnixTimeMilliseconds(),
                CacheHit = job.Result?.CacheHit == true ? 1 : 0,
                RunMs = job.Result is { CacheHit: false } r ? r.RunMs : (double?)null,
                WaitMs = job.StartedAt is { } started && job.QueuedAt is { } queued ? (long)(started - queued).TotalMilliseconds : (long?)null,
            }));

    /// <summary>Counts a refused submission (usage analytics).</summary>
    public Task CountRefusalAsync(string tenantId, string reason) =>
        store.WriteAsync(c => c.ExecuteAsync(
            """
            INSERT INTO refusals (day, tenant_id, reason, count) VALUES (@Day, @Tenant, @Reason, 1)
            ON CONFLICT (day, tenant_id, reason) DO UPDATE SET count = refusals.count + 1
            """, new { Day = time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), Tenant = tenantId, Reason = reason }));

    public Task RemoveAsync(string jobId) =>
        store.WriteAsync(c => c.ExecuteAsync("DELETE FROM jobs WHERE job_id = @Id", new { Id = jobId }));

    /// <summary>Newest first; all tenants when <paramref name="tenantId"/> is null.</summary>
    public Task<IReadOnlyList<JobListing>> ListAsync(string? tenantId, string? status, int limit, CancellationToken cancellationToken = default) =>
        store.ReadAsync<IReadOnlyList<JobListing>>(async c => (await c.QueryAsync<(string Id, string Tenant, string Model, int Tier, string Status, long Created, long Updated)>(
            """
            SELECT job_id, tenant_id, model, tier, status, created_ms, updated_ms FROM jobs
            WHERE (@Tenant IS NULL OR tenant_id = @Tenant) AND (@Status IS NULL OR status = @Status)
            ORDER BY created_ms DESC, job_id DESC LIMIT @Limit
            """, new { Tenant = tenantId, Status = status, Limit = limit }))
            .Select(r => new JobListing(r.Id, r.Tenant, r.Model, r.Tier, Enum.Parse<JobStatus>(r.Status),
                DateTimeOffset.FromUnixTimeMilliseconds(r.Created), DateTimeOffset.FromUnixTimeMilliseconds(r.Updated))).ToList(), cancellationToken);

    /// <summary>Finished jobs last changed before <paramref name="cutoff"/> (to purge).</summary>
    public Task<IReadOnlyList<string>> FinishedBeforeAsync(DateTimeOffset cutoff, int max, CancellationToken cancellationToken = default) =>
        store.ReadAsync<IReadOnlyList<string>>(async c => (await c.QueryAsync<string>(
            "SELECT job_id FROM jobs WHERE status IN ('Succeeded', 'Failed', 'Canceled', 'Expired') AND updated_ms < @Cut ORDER BY updated_ms LIMIT @Max",
            new { Cut = cutoff.ToUnixTimeMilliseconds(), Max = max })).ToList(), cancellationToken);

    /// <summary>Jobs per status (for the operators' view).</summary>
    public Task<IReadOnlyDictionary<string, long>> CountByStatusAsync(CancellationToken cancellationToken = default) =>
        store.ReadAsync<IReadOnlyDictionary<string, long>>(async c => (await c.QueryAsync<(string Status, long Count)>(
            "SELECT status, count(*) FROM jobs GROUP BY status")).ToDictionary(r => r.Status, r => r.Count), cancellationToken);

    /// <summary>Jobs created since <paramref name="since"/>, per tier (arrival rates).</summary>
    public Task<IReadOnlyDictionary<int, long>> CreatedSinceAsync(DateTimeOffset since, CancellationToken cancellationToken = default) =>
        store.ReadAsync<IReadOnlyDictionary<int, long>>(async c => (await c.QueryAsync<(int Tier, long Count)>(
            "SELECT tier, count(*) FROM jobs WHERE created_ms >= @Since GROUP BY tier", new { Since = since.ToUnixTimeMilliseconds() }))
            .ToDictionary(r => r.Tier, r => r.Count), cancellationToken);

    /// <summary>Jobs that ran on an instance (not cache hits) and succeeded in (from, to].</summary>
    public Task<long> RanBetweenAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken = default) =>
        store.ReadAsync(c => c.ExecuteScalarAsync<long>(
            "SELECT count(*) FROM jobs WHERE updated_ms > @From AND updated_ms <= @To AND status = 'Succeeded' AND run_ms IS NOT NULL",
            new { From = from.ToUnixTimeMilliseconds(), To = to.ToUnixTimeMilliseconds() }), cancellationToken);

    /// <summary>Per minute since <paramref name="since"/>: jobs submitted, succeeded and failed.</summary>
    public Task<IReadOnlyList<JobsPerMinute>> PerMinuteAsync(DateTimeOffset since, CancellationToken cancellationToken = default) =>
        store.ReadAsync<IReadOnlyList<JobsPerMinute>>(async c =>
        {
            var from = since.ToUnixTimeMilliseconds();
            var created = (await c.QueryAsync<(long Minute, long Count)>(
                "SELECT created_ms / 60000, count(*) FROM jobs WHERE created_ms >= @From GROUP BY created_ms / 60000", new { From = from })).ToDictionary(r => r.Minute, r => r.Count);
            var finished = (await c.QueryAsync<(long Minute, string Status, long Count)>(
                "SELECT updated_ms / 60000, status, count(*) FROM jobs WHERE updated_ms >= @From AND status IN ('Succeeded', 'Failed') GROUP BY updated_ms / 60000, status",
                new { From = from })).ToList();
            var first = from / 60000;
            var last = time.GetUtcNow().ToUnixTimeMilliseconds() / 60000;
            return [.. Enumerable.Range(0, (int)(last - first + 1)).Select(i => first + i).Select(m => new JobsPerMinute(
                DateTimeOffset.FromUnixTimeMilliseconds(m * 60000), created.GetValueOrDefault(m),
                finished.Where(f => f.Minute == m && f.Status == "Succeeded").Sum(f => f.Count),
                finished.Where(f => f.Minute == m && f.Status == "Failed").Sum(f => f.Count)))];
        }, cancellationToken);
}

/// <summary>One minute of traffic.</summary>
public sealed record JobsPerMinute(DateTimeOffset Minute, long Submitted, long Succeeded, long Failed);
