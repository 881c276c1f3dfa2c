using System.Globalization;
using Actors.Grains.Jobs;
using Actors.Grains.Stores;
using Actors.Storage.Sql;
using Dapper;

namespace Actors.Storage.ReadModels;

/// <summary>A row per job (tenant, model, status, times) kept by its grain, so jobs can be listed
/// and swept without a turn per job. The grain's state is the truth; this is its index.</summary>
public sealed class JobIndex(SqlStore store, TimeProvider time) : IJobListings
{
    /// <summary>Counts a refused submission (usage analytics).</summary>
    public Task CountRefusalAsync(string tenantId, string reason) =>
        store.WriteAsync(c => c.ExecuteAsync(
            """
            INSERT INTO refusals (day, tenant_id, reason, count) VALUES (@Day, @Tenant, @Reason, 1)
            ON CONFLICT (day, tenant_id, reason) DO UPDATE SET count = refusals.count + 1
            """, new { Day = time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), Tenant = tenantId, Reason = reason }));

    /// <summary>Newest first; all tenants when <paramref name="tenantId"/> is null.</summary>
    public Task<IReadOnlyList<JobListing>> ListAsync(string? tenantId, IReadOnlyCollection<JobStatus>? statuses, int limit, CancellationToken cancellationToken = default)
    {
        // One named parameter per status: the same SQL on PostgreSQL and SQLite.
        var parameters = new DynamicParameters(new { Tenant = tenantId, Limit = limit });
        var names = (statuses ?? []).Select((status, i) =>
        {
            parameters.Add($"S{i}", status.ToString());
            return $"@S{i}";
        }).ToList();
        var filter = statuses is null ? "" : $" AND status IN ({string.Join(", ", names)})";
        return store.ReadAsync<IReadOnlyList<JobListing>>(async c => (await c.QueryAsync<(string Id, string Tenant, string Model, int Tier, string Status, long Created, long Updated)>(
            $"""
            SELECT job_id, tenant_id, model, tier, status, created_ms, updated_ms FROM jobs
            WHERE (@Tenant IS NULL OR tenant_id = @Tenant){filter}
            ORDER BY created_ms DESC, job_id DESC LIMIT @Limit
            """, parameters))
            .Select(r => new JobListing(r.Id, r.Tenant, r.Model, r.Tier, Enum.Parse<JobStatus>(r.Status),
                DateTimeOffset.FromUnixTimeMilliseconds(r.Created), DateTimeOffset.FromUnixTimeMilliseconds(r.Updated))).ToList(), cancellationToken);
    }

    /// <summary>A tenant's jobs the index holds (for erasing its data), in the order they were
    /// created: at most <paramref name="max"/> after the job (<paramref name="afterCreatedMs"/>,
    /// <paramref name="afterJobId"/>) and created no later than <paramref name="untilMs"/>. A key,
    /// not an offset, so jobs purged meanwhile move nothing.</summary>
    public Task<IReadOnlyList<(string JobId, long CreatedMs)>> JobsOfTenantAsync(string tenantId, long afterCreatedMs, string afterJobId, long untilMs, int max,
        CancellationToken cancellationToken = default) =>
        store.ReadAsync<IReadOnlyList<(string JobId, long CreatedMs)>>(async c => (await c.QueryAsync<(string, long)>(
            """
            SELECT job_id, created_ms FROM jobs
            WHERE tenant_id = @Tenant AND created_ms <= @Until AND (created_ms > @After OR (created_ms = @After AND job_id > @AfterJob))
            ORDER BY created_ms, job_id LIMIT @Max
            """, new { Tenant = tenantId, After = afterCreatedMs, AfterJob = afterJobId, Until = untilMs, Max = max })).ToList(), cancellationToken);

    /// <summary>Finished jobs last changed before <paramref name="cutoff"/> (to purge).</summary>
    public Task<IReadOnlyList<string>> FinishedBeforeAsync(DateTimeOffset cutoff, int max, CancellationToken cancellationToken = default) =>
        store.ReadAsync<IReadOnlyList<string>>(async c => (await c.QueryAsync<string>(
            "SELECT job_id FROM jobs WHERE status IN ('Succeeded', 'Failed', 'Canceled', 'Expired') AND updated_ms < @Cut ORDER BY updated_ms LIMIT @Max",
            new { Cut = cutoff.ToUnixTimeMilliseconds(), Max = max })).ToList(), cancellationToken);

    /// <summary>Jobs the index says are queued, unchanged since <paramref name="cutoff"/>, with no
    /// queue row: a silo died between the job's state and its row (the sweep puts them back).</summary>
    public Task<IReadOnlyList<string>> QueuedWithoutRowAsync(DateTimeOffset cutoff, int max, CancellationToken cancellationToken = default) =>
        store.ReadAsync<IReadOnlyList<string>>(async c => (await c.QueryAsync<string>(
            """
            SELECT j.job_id FROM jobs j
            WHERE j.status = 'Queued' AND j.updated_ms < @Cut AND NOT EXISTS (SELECT 1 FROM job_queue q WHERE q.job_id = j.job_id)
            ORDER BY j.updated_ms LIMIT @Max
            """, new { Cut = cutoff.ToUnixTimeMilliseconds(), Max = max })).ToList(), cancellationToken);

    /// <summary>When the newest job was created (null for none): the forecast policy's keep-alive.</summary>
    public Task<DateTimeOffset?> LastCreatedAtAsync(CancellationToken cancellationToken = default) =>
        store.ReadAsync(async c => await c.ExecuteScalarAsync<long?>("SELECT max(created_ms) FROM jobs") is { } ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : (DateTimeOffset?)null, cancellationToken);

    /// <summary>Jobs created since <paramref name="since"/> per clock hour (hours since the Unix
    /// epoch) and tier: the history the forecast policy's profile starts from.</summary>
    public Task<IReadOnlyList<(long Hour, int Tier, long Count)>> ArrivalsPerHourAsync(DateTimeOffset since, CancellationToken cancellationToken = default) =>
        store.ReadAsync<IReadOnlyList<(long Hour, int Tier, long Count)>>(async c => (await c.QueryAsync<(long Hour, int Tier, long Count)>(
            "SELECT created_ms / 3600000 AS hour, tier, count(*) FROM jobs WHERE created_ms >= @Since GROUP BY created_ms / 3600000, tier",
            new { Since = since.ToUnixTimeMilliseconds() })).ToList(), cancellationToken);

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

    /// <inheritdoc/>
    public Task<long> FinishedSinceAsync(DateTimeOffset since, CancellationToken cancellationToken = default) =>
        store.ReadAsync(c => c.ExecuteScalarAsync<long>(
            "SELECT count(*) FROM jobs WHERE updated_ms >= @From AND status IN ('Succeeded', 'Failed')", new { From = since.ToUnixTimeMilliseconds() }), cancellationToken);

    /// <inheritdoc/>
    public Task<UsageRows> UsageSinceAsync(DateTimeOffset from, int maxFinished, CancellationToken cancellationToken = default) =>
        store.ReadAsync(async c =>
        {
            var fromMs = from.ToUnixTimeMilliseconds();
            var perDay = (await c.QueryAsync<(long Day, string Tenant, string Model, long Jobs, long Succeeded, long Failed, long Hits)>(
                """
                SELECT created_ms / 86400000, tenant_id, model, count(*),
                       sum(CASE WHEN status = 'Succeeded' THEN 1 ELSE 0 END), sum(CASE WHEN status = 'Failed' THEN 1 ELSE 0 END), sum(cache_hit)
                FROM jobs WHERE created_ms >= @From GROUP BY created_ms / 86400000, tenant_id, model
                ORDER BY created_ms / 86400000 DESC, tenant_id, model
                """, new { From = fromMs }))
                .Select(r => new UsageRows.Day(DayOf(r.Day), r.Tenant, r.Model, r.Jobs, r.Succeeded, r.Failed, r.Hits)).ToList();
            var finished = (await c.QueryAsync<(string Model, long TotalMs, long? WaitMs, double? RunMs, int CacheHit)>(
                "SELECT model, updated_ms - created_ms, wait_ms, run_ms, cache_hit FROM jobs WHERE status = 'Succeeded' AND created_ms >= @From LIMIT @Max",
                new { From = fromMs, Max = maxFinished }))
                .Select(r => new UsageRows.Finished(r.Model, r.TotalMs, r.WaitMs, r.RunMs, r.CacheHit == 1)).ToList();
            var refusals = (await c.QueryAsync<(string Day, string Tenant, string Reason, long Count)>(
                "SELECT day, tenant_id, reason, count FROM refusals WHERE day >= @From ORDER BY day DESC, count DESC, tenant_id, reason",
                new { From = from.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) }))
                .Select(r => new UsageRows.Refusals(r.Day, r.Tenant, r.Reason, r.Count)).ToList();
            return new UsageRows(perDay, finished, refusals);
        }, cancellationToken);

    private static string DayOf(long unixDay) =>
        DateTimeOffset.FromUnixTimeMilliseconds(unixDay * 86_400_000).UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
