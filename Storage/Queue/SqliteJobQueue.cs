using Actors.Grains.Jobs;
using Actors.Storage.Schema;
using Microsoft.Data.Sqlite;
using Actors.Grains.Stores;

namespace Actors.Storage.Queue;

/// <summary>The job queue in the embedded SQLite file (one process). Every write goes through
/// the file's writer lock, which also makes claims exclusive. Times are unix milliseconds.</summary>
public sealed class SqliteJobQueue : IJobQueue
{
    private readonly SqliteFile _file;
    private readonly TimeProvider _time;

    public SqliteJobQueue(string path, TimeProvider time)
    {
        _file = new SqliteFile(path);
        _time = time;
    }

    public Task<bool> EnqueueAsync(QueuedJob job, CancellationToken cancellationToken = default) =>
        WriteAsync(async c =>
        {
            var now = _time.GetUtcNow();
            await using var cmd = Command(c,
                """
                INSERT INTO job_queue (job_id, model, tier, enqueued_at, ready_at, state, max_attempts, cache_key)
                VALUES ($id, $model, $tier, $now, $ready, 'queued', $max, $key) ON CONFLICT (job_id) DO NOTHING
                """,
                ("$id", job.JobId), ("$model", job.Model), ("$tier", job.Tier), ("$now", now.ToUnixTimeMilliseconds()),
                ("$ready", TierAging.ReadyAt(now, job.Tier).ToUnixTimeMilliseconds()), ("$max", Math.Max(1, job.MaxAttempts)), ("$key", job.CacheKey));
            return await cmd.ExecuteNonQueryAsync(cancellationToken) == 1;
        }, cancellationToken);

    public Task<IReadOnlyList<JobLease>> ClaimAsync(string model, string host, int max, TimeSpan lease, CancellationToken cancellationToken = default) =>
        WriteAsync<IReadOnlyList<JobLease>>(async c =>
        {
            await using var cmd = Command(c,
                """
                UPDATE job_queue SET state = 'leased', lease_owner = $host, lease_until = $until, attempts = attempts + 1
                WHERE job_id IN (SELECT job_id FROM job_queue WHERE model = $model AND state = 'queued' ORDER BY ready_at, job_id LIMIT $max)
                RETURNING job_id, model, tier, attempts, enqueued_at, lease_until, ready_at, cache_key
                """,
                ("$host", host), ("$until", (_time.GetUtcNow() + lease).ToUnixTimeMilliseconds()), ("$model", model), ("$max", max));
            var leases = new List<(JobLease Lease, long Ready)>();
            await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                leases.Add((new JobLease(reader.GetString(0), reader.GetString(1), reader.GetInt32(2), reader.GetInt32(3),
                    DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4)), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5)), reader.IsDBNull(7) ? null : reader.GetString(7)), reader.GetInt64(6)));
            }

            return leases.OrderBy(l => l.Ready).ThenBy(l => l.Lease.JobId, StringComparer.Ordinal).Select(l => l.Lease).ToList();
        }, cancellationToken);

    public Task<IReadOnlyList<string>> RenewAsync(string host, IReadOnlyCollection<string> jobIds, TimeSpan lease, CancellationToken cancellationToken = default) =>
        WriteAsync<IReadOnlyList<string>>(async c =>
        {
            var now = _time.GetUtcNow();
            var held = new List<string>();
            foreach (var id in jobIds)
            {
                await using var cmd = Command(c,
                    "UPDATE job_queue SET lease_until = $until WHERE job_id = $id AND lease_owner = $host AND state = 'leased' AND lease_until >= $now",
                    ("$until", (now + lease).ToUnixTimeMilliseconds()), ("$id", id), ("$host", host), ("$now", now.ToUnixTimeMilliseconds()));
                if (await cmd.ExecuteNonQueryAsync(cancellationToken) == 1)
                {
                    held.Add(id);
                }
            }

            return held;
        }, cancellationToken);

    public Task<bool> CompleteAsync(string jobId, string host, CancellationToken cancellationToken = default) =>
        WriteAsync(async c =>
        {
            await using var cmd = Command(c, "DELETE FROM job_queue WHERE job_id = $id AND state = 'leased' AND lease_owner = $host", ("$id", jobId), ("$host", host));
            return await cmd.ExecuteNonQueryAsync(cancellationToken) == 1;
        }, cancellationToken);

    public Task<IReadOnlyList<LapsedJob>> RecoverLapsedAsync(CancellationToken cancellationToken = default) =>
        WriteAsync<IReadOnlyList<LapsedJob>>(async c =>
        {
            await using var cmd = Command(c,
                QueueSql.RecoverLapsed("$now"), ("$now", _time.GetUtcNow().ToUnixTimeMilliseconds()));
            var lapsed = new List<LapsedJob>();
            await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                lapsed.Add(new LapsedJob(reader.GetString(0), reader.GetInt32(1), reader.GetString(2) == "queued", reader.IsDBNull(3) ? null : reader.GetString(3)));
            }

            return lapsed;
        }, cancellationToken);

    public async Task<IReadOnlyList<TierDepth>> TierStatsAsync(CancellationToken cancellationToken = default)
    {
        await using var c = await _file.OpenAsync(cancellationToken);
        await using var cmd = Command(c, "SELECT tier, count(*), min(enqueued_at) FROM job_queue WHERE state = 'queued' GROUP BY tier ORDER BY tier");
        var stats = new List<TierDepth>();
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            stats.Add(new TierDepth(reader.GetInt32(0), reader.GetInt32(1), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2))));
        }

        return stats;
    }

    public async Task<IReadOnlyDictionary<int, int>> DepthAsync(string model, CancellationToken cancellationToken = default)
    {
        await using var c = await _file.OpenAsync(cancellationToken);
        await using var cmd = Command(c, "SELECT tier, count(*) FROM job_queue WHERE model = $model AND state = 'queued' GROUP BY tier", ("$model", model));
        var depth = new Dictionary<int, int>();
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            depth[reader.GetInt32(0)] = reader.GetInt32(1);
        }

        return depth;
    }

    public Task<bool> RemoveAsync(string jobId, CancellationToken cancellationToken = default) =>
        WriteAsync(async c =>
        {
            await using var cmd = Command(c, "DELETE FROM job_queue WHERE job_id = $id", ("$id", jobId));
            return await cmd.ExecuteNonQueryAsync(cancellationToken) == 1;
        }, cancellationToken);

    public Task<IReadOnlyList<string>> TakeWaitingOlderThanAsync(DateTimeOffset cutoff, int max, CancellationToken cancellationToken = default) =>
        WriteAsync<IReadOnlyList<string>>(async c =>
        {
            await using var cmd = Command(c,
                """
                DELETE FROM job_queue WHERE job_id IN (
                    SELECT job_id FROM job_queue WHERE state = 'queued' AND enqueued_at < $cut ORDER BY enqueued_at LIMIT $max)
                RETURNING job_id
                """, ("$cut", cutoff.ToUnixTimeMilliseconds()), ("$max", max));
            var ids = new List<string>();
            await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                ids.Add(reader.GetString(0));
            }

            return ids;
        }, cancellationToken);

    public async Task<int?> PositionAsync(string jobId, CancellationToken cancellationToken = default)
    {
        await using var c = await _file.OpenAsync(cancellationToken);
        await using var cmd = Command(c,
            """
            SELECT (SELECT count(*) FROM job_queue o WHERE o.model = j.model AND o.state = 'queued'
                    AND (o.ready_at < j.ready_at OR (o.ready_at = j.ready_at AND o.job_id < j.job_id)))
            FROM job_queue j WHERE j.job_id = $id AND j.state = 'queued'
            """, ("$id", jobId));
        var result = await cmd.ExecuteScalarAsync(cancellationToken);
        return result is long n ? (int)n : null;
    }

    public Task<int> ExpireLeasesOfAsync(string host, CancellationToken cancellationToken = default) =>
        WriteAsync(async c =>
        {
            await using var cmd = Command(c, "UPDATE job_queue SET lease_until = 0 WHERE state = 'leased' AND lease_owner = $host", ("$host", host));
            return await cmd.ExecuteNonQueryAsync(cancellationToken);
        }, cancellationToken);

    public async Task<IReadOnlyDictionary<string, int>> LeasedPerHostAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await _file.OpenAsync(cancellationToken);
        await using var cmd = Command(connection, "SELECT lease_owner, count(*) FROM job_queue WHERE state = 'leased' AND lease_owner IS NOT NULL GROUP BY lease_owner");
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        var leased = new Dictionary<string, int>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken))
        {
            leased[reader.GetString(0)] = (int)reader.GetInt64(1);
        }

        return leased;
    }

    private Task<T> WriteAsync<T>(Func<SqliteConnection, Task<T>> write, CancellationToken ct) => _file.WriteAsync(write, ct);

    private static SqliteCommand Command(SqliteConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        var cmd = new SqliteCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            cmd.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return cmd;
    }
}
