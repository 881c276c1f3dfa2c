using Dapper;
using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Actors.Runtime.Storage;

/// <summary>Grain state in one SQLite file, for the embedded single-process mode. A turn holds
/// a per-grain async lock (shared by every storage object on the same file in this process);
/// commits go through one writer lock, because SQLite under write contention can starve a
/// writer for seconds even with busy_timeout.</summary>
public sealed class SqliteGrainStorage : IGrainStorage
{
    private readonly SqliteFile _file;

    public SqliteGrainStorage(string path)
    {
        _file = new SqliteFile(path);
    }

    public Task MigrateAsync(CancellationToken cancellationToken = default) =>
        _file.WriteAsync(async connection =>
        {
            await Execute(connection, null, "PRAGMA journal_mode=WAL", cancellationToken);
            await using var tx = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
            await Execute(connection, tx, "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)", cancellationToken);
            var applied = new HashSet<long>();
            await using (var cmd = new SqliteCommand("SELECT version FROM schema_migrations", connection, tx))
            await using (var reader = await cmd.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    applied.Add(reader.GetInt64(0));
                }
            }

            foreach (var (version, name, sql) in MigrationScripts.For("Sqlite").Where(m => !applied.Contains(m.Version)))
            {
                await Execute(connection, tx, sql, cancellationToken);
                await using var record = new SqliteCommand("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($v, $n, $t)", connection, tx);
                record.Parameters.AddWithValue("$v", version);
                record.Parameters.AddWithValue("$n", name);
                record.Parameters.AddWithValue("$t", DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture));
                await record.ExecuteNonQueryAsync(cancellationToken);
            }

            await tx.CommitAsync(cancellationToken);
            return true;
        }, cancellationToken);

    public async Task<IGrainTurn> BeginTurnAsync(GrainId id, CancellationToken cancellationToken = default)
    {
        var hold = await _file.Locks.Grains.AcquireAsync(id, cancellationToken);
        try
        {
            return new Turn(this, id, await ReadAsync(id, cancellationToken), hold);
        }
        catch
        {
            hold.Dispose();
            throw;
        }
    }

    public async Task<StoredState?> ReadAsync(GrainId id, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = new SqliteCommand("SELECT state, version FROM grain_state WHERE grain_type = $t AND grain_key = $k", connection);
        cmd.Parameters.AddWithValue("$t", id.Type);
        cmd.Parameters.AddWithValue("$k", id.Key);
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) && !reader.IsDBNull(0) ? new StoredState(reader.GetString(0), reader.GetInt64(1)) : null;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private Task<SqliteConnection> OpenAsync(CancellationToken ct) => _file.OpenAsync(ct);

    private static async Task Execute(SqliteConnection connection, SqliteTransaction? tx, string sql, CancellationToken ct)
    {
        await using var cmd = new SqliteCommand(sql, connection, tx);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    private Task<bool> CommitAsync(GrainId id, string? json, long expectedVersion, IReadOnlyList<StagedWrite> staged, CancellationToken ct) =>
        _file.WriteAsync(async connection =>
        {
            await using var tx = (SqliteTransaction)await connection.BeginTransactionAsync(ct);
            foreach (var write in staged)
            {
                await connection.ExecuteAsync(new CommandDefinition(write.Sql, write.Param, tx, cancellationToken: ct));
            }

            if (json is not null)
            {
                await using var cmd = new SqliteCommand(
                    """
                    INSERT INTO grain_state (grain_type, grain_key, state, version, updated_at) VALUES ($t, $k, $s, 1, $u)
                    ON CONFLICT (grain_type, grain_key) DO UPDATE SET state = excluded.state, version = grain_state.version + 1, updated_at = excluded.updated_at
                    WHERE grain_state.version = $v
                    """, connection, tx);
                cmd.Parameters.AddWithValue("$t", id.Type);
                cmd.Parameters.AddWithValue("$k", id.Key);
                cmd.Parameters.AddWithValue("$s", json);
                cmd.Parameters.AddWithValue("$u", DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture));
                cmd.Parameters.AddWithValue("$v", expectedVersion);
                if (await cmd.ExecuteNonQueryAsync(ct) != 1)
                {
                    // The per-grain lock makes this unreachable within one process; another
                    // process writing the same file would land here instead of losing an update.
                    throw new InvalidOperationException($"grain {id} was changed by someone else during the turn (version {expectedVersion})");
                }
            }

            await tx.CommitAsync(ct);
            return true;
        }, ct);

    private sealed class Turn(SqliteGrainStorage owner, GrainId id, StoredState? stored, IDisposable hold) : IGrainTurn
    {
        private string? _pending;
        private List<StagedWrite>? _staged;

        public StoredState? Stored { get; } = stored;

        public void Write(string json) => _pending = json;

        public void Stage(StagedWrite write) => (_staged ??= []).Add(write);

        public async Task CommitAsync(CancellationToken cancellationToken = default)
        {
            if (_pending is not null || _staged is not null)
            {
                await owner.CommitAsync(id, _pending, Stored?.Version ?? 0, _staged ?? [], cancellationToken);
            }
        }

        public ValueTask DisposeAsync()
        {
            hold.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
