using Actors.Grains.Jobs;
using Npgsql;
using Actors.Grains.Stores;

namespace Actors.Storage.Queue;

/// <summary>The job queue in PostgreSQL: claims with FOR UPDATE SKIP LOCKED, so any number of
/// GPU hosts on any silo claim without blocking each other or double-claiming. Time comes from
/// the injected <see cref="TimeProvider"/>, not the server's clock.</summary>
public sealed class PostgresJobQueue(NpgsqlDataSource dataSource, TimeProvider time) : IJobQueue
{
    public async Task<bool> EnqueueAsync(QueuedJob job, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        await using var cmd = dataSource.CreateCommand(
            """
            INSERT INTO job_queue (job_id, model, tier, enqueued_at, ready_at, state, max_attempts, cache_key)
            VALUES ($1, $2, $3, $4, $5, 'queued', $6, $7) ON CONFLICT (job_id) DO NOTHING
            """);
        cmd.Parameters.AddWithValue(job.JobId);
        cmd.Parameters.AddWithValue(job.Model);
        cmd.Parameters.AddWithValue(job.Tier);
        cmd.Parameters.AddWithValue(now);
        cmd.Parameters.AddWithValue(TierAging.ReadyAt(now, job.Tier));
        cmd.Parameters.AddWithValue(Math.Max(1, job.MaxAttempts));
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)job.CacheKey ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        return await cmd.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public async Task<IReadOnlyList<JobLease>> ClaimAsync(string model, string host, int max, TimeSpan lease, CancellationToken cancellationToken = default)
    {
        await using var cmd = dataSource.CreateCommand(
            """
            WITH picked AS (
                SELECT job_id FROM job_queue WHERE model = $1 AND state = 'queued'
                ORDER BY ready_at, job_id LIMIT $2 FOR UPDATE SKIP LOCKED)
            UPDATE job_queue q SET state = 'leased', lease_owner = $3, lease_until = $4, attempts = q.attempts + 1
            FROM picked WHERE q.job_id = picked.job_id
            RETURNING q.job_id, q.model, q.tier, q.attempts, q.enqueued_at, q.lease_until, q.ready_at, q.cache_key
            """);
        cmd.Parameters.AddWithValue(model);
        cmd.Parameters.AddWithValue(max);
        cmd.Parameters.AddWithValue(host);
        cmd.Parameters.AddWithValue(time.GetUtcNow() + lease);
        var leases = new List<(JobLease Lease, DateTime Ready)>();
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            leases.Add((new JobLease(reader.GetString(0), reader.GetString(1), reader.GetInt32(2), reader.GetInt32(3),
                reader.GetFieldValue<DateTimeOffset>(4), reader.GetFieldValue<DateTimeOffset>(5), reader.IsDBNull(7) ? null : reader.GetString(7)), reader.GetDateTime(6)));
        }

        return leases.OrderBy(l => l.Ready).ThenBy(l => l.Lease.JobId, StringComparer.Ordinal).Select(l => l.Lease).ToList();
    }

    public async Task<IReadOnlyList<string>> RenewAsync(string host, IReadOnlyCollection<string> jobIds, TimeSpan lease, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        await using var cmd = dataSource.CreateCommand(
            "UPDATE job_queue SET lease_until = $3 WHERE lease_owner = $1 AND state = 'leased' AND job_id = ANY($2) AND lease_until >= $4 RETURNING job_id");
        cmd.Parameters.AddWithValue(host);
        cmd.Parameters.AddWithValue(jobIds.ToArray());
        cmd.Parameters.AddWithValue(now + lease);
        cmd.Parameters.AddWithValue(now);
        var held = new List<string>();
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            held.Add(reader.GetString(0));
        }

        return held;
    }

    public async Task<bool> CompleteAsync(string jobId, string host, CancellationToken cancellationToken = default)
    {
        await using var cmd = dataSource.CreateCommand("DELETE FROM job_queue WHERE job_id = $1 AND state = 'leased' AND lease_owner = $2");
        cmd.Parameters.AddWithValue(jobId);
        cmd.Parameters.AddWithValue(host);
        return await cmd.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public async Task<IReadOnlyList<LapsedJob>> RecoverLapsedAsync(CancellationToken cancellationToken = default)
    {
        await using var cmd = dataSource.CreateCommand(
            QueueSql.RecoverLapsed("$1"));
        cmd.Parameters.AddWithValue(time.GetUtcNow());
        var lapsed = new List<LapsedJob>();
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            lapsed.Add(new LapsedJob(reader.GetString(0), reader.GetInt32(1), reader.GetString(2) == "queued", reader.IsDBNull(3) ? null : reader.GetString(3)));
        }

        return lapsed;
    }

    public async Task<IReadOnlyList<TierDepth>> TierStatsAsync(CancellationToken cancellationToken = default)
    {
        await using var cmd = dataSource.CreateCommand("SELECT tier, count(*), min(enqueued_at) FROM job_queue WHERE state = 'queued' GROUP BY tier ORDER BY tier");
        var stats = new List<TierDepth>();
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            stats.Add(new TierDepth(reader.GetInt32(0), (int)reader.GetInt64(1), reader.GetFieldValue<DateTimeOffset>(2)));
        }

        return stats;
    }

    public async Task<IReadOnlyDictionary<int, int>> DepthAsync(string model, CancellationToken cancellationToken = default)
    {
        await using var cmd = dataSource.CreateCommand("SELECT tier, count(*) FROM job_queue WHERE model = $1 AND state = 'queued' GROUP BY tier");
        cmd.Parameters.AddWithValue(model);
        var depth = new Dictionary<int, int>();
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            depth[reader.GetInt32(0)] = (int)reader.GetInt64(1);
        }

        return depth;
    }

    public async Task<bool> RemoveAsync(string jobId, CancellationToken cancellationToken = default)
    {
        await using var cmd = dataSource.CreateCommand("DELETE FROM job_queue WHERE job_id = $1");
        cmd.Parameters.AddWithValue(jobId);
        return await cmd.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public async Task<IReadOnlyList<string>> TakeWaitingOlderThanAsync(DateTimeOffset cutoff, int max, CancellationToken cancellationToken = default)
    {
        await using var cmd = dataSource.CreateCommand(
            """
            DELETE FROM job_queue WHERE job_id IN (
                SELECT job_id FROM job_queue WHERE state = 'queued' AND enqueued_at < $1 ORDER BY enqueued_at LIMIT $2 FOR UPDATE SKIP LOCKED)
            RETURNING job_id
            """);
        cmd.Parameters.AddWithValue(cutoff);
        cmd.Parameters.AddWithValue(max);
        var ids = new List<string>();
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            ids.Add(reader.GetString(0));
        }

        return ids;
    }

    public async Task<int?> PositionAsync(string jobId, CancellationToken cancellationToken = default)
    {
        await using var cmd = dataSource.CreateCommand(
            """
            SELECT (SELECT count(*) FROM job_queue o WHERE o.model = j.model AND o.state = 'queued'
                    AND (o.ready_at < j.ready_at OR (o.ready_at = j.ready_at AND o.job_id < j.job_id)))
            FROM job_queue j WHERE j.job_id = $1 AND j.state = 'queued'
            """);
        cmd.Parameters.AddWithValue(jobId);
        var result = await cmd.ExecuteScalarAsync(cancellationToken);
        return result is long n ? (int)n : null;
    }

    public async Task<int> ExpireLeasesOfAsync(string host, CancellationToken cancellationToken = default)
    {
        await using var cmd = dataSource.CreateCommand("UPDATE job_queue SET lease_until = $2 WHERE state = 'leased' AND lease_owner = $1");
        cmd.Parameters.AddWithValue(host);
        cmd.Parameters.AddWithValue(DateTimeOffset.UnixEpoch);
        return await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<IReadOnlyDictionary<string, int>> LeasedPerHostAsync(CancellationToken cancellationToken = default)
    {
        await using var cmd = dataSource.CreateCommand("SELECT lease_owner, count(*) FROM job_queue WHERE state = 'leased' AND lease_owner IS NOT NULL GROUP BY lease_owner");
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        var leased = new Dictionary<string, int>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken))
        {
            leased[reader.GetString(0)] = (int)reader.GetInt64(1);
        }

        return leased;
    }
}
