using Dapper;
using Npgsql;
using NpgsqlTypes;

namespace Actors.Runtime.Storage;

/// <summary>Grain state in PostgreSQL. A turn is a transaction holding the grain's row lock
/// (taken by an upsert that also reads the state), so two silos can never run the same grain
/// at once.</summary>
public sealed class PostgresGrainStorage(NpgsqlDataSource dataSource) : IGrainStorage
{
    private const long MigrationLockId = 0x4163746F7273; // "Actors"

    public static PostgresGrainStorage Create(string connectionString) => new(NpgsqlDataSource.Create(connectionString));

    public async Task MigrateAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        await Execute(connection, tx, $"SELECT pg_advisory_xact_lock({MigrationLockId})", cancellationToken);
        await Execute(connection, tx, "CREATE TABLE IF NOT EXISTS schema_migrations (version int PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())", cancellationToken);
        var applied = new HashSet<int>();
        await using (var cmd = new NpgsqlCommand("SELECT version FROM schema_migrations", connection, tx))
        await using (var reader = await cmd.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                applied.Add(reader.GetInt32(0));
            }
        }

        foreach (var (version, name, sql) in MigrationScripts.For("Postgres").Where(m => !applied.Contains(m.Version)))
        {
            await Execute(connection, tx, sql, cancellationToken);
            await using var record = new NpgsqlCommand("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", connection, tx);
            record.Parameters.AddWithValue(version);
            record.Parameters.AddWithValue(name);
            await record.ExecuteNonQueryAsync(cancellationToken);
        }

        await tx.CommitAsync(cancellationToken);
    }

    // Turns on one grain queue here, in memory, before taking a connection: only one turn per
    // grain per silo waits on the row lock. Otherwise a hot grain's waiting turns could hold every
    // pooled connection while the turn that holds the lock needs one more for its side tables.
    private readonly KeyedLock<GrainId> _local = new();

    public async Task<IGrainTurn> BeginTurnAsync(GrainId id, CancellationToken cancellationToken = default)
    {
        var hold = await _local.AcquireAsync(id, cancellationToken);
        NpgsqlConnection connection;
        try
        {
            connection = await dataSource.OpenConnectionAsync(cancellationToken);
        }
        catch
        {
            hold.Dispose();
            throw;
        }

        try
        {
            var tx = await connection.BeginTransactionAsync(cancellationToken);
            // One round trip: create the row if it is new, and either way lock it (an upsert's
            // DO UPDATE takes the row lock) and read its state. Racing silos queue on the lock.
            await using var cmd = new NpgsqlCommand(
                """
                INSERT INTO grain_state (grain_type, grain_key) VALUES ($1, $2)
                ON CONFLICT (grain_type, grain_key) DO UPDATE SET grain_type = excluded.grain_type
                RETURNING state::text, version
                """, connection, tx);
            cmd.Parameters.AddWithValue(id.Type);
            cmd.Parameters.AddWithValue(id.Key);
            StoredState? stored;
            await using (var reader = await cmd.ExecuteReaderAsync(cancellationToken))
            {
                await reader.ReadAsync(cancellationToken);
                stored = reader.IsDBNull(0) ? null : new StoredState(reader.GetString(0), reader.GetInt64(1));
            }

            return new Turn(connection, tx, id, stored, hold);
        }
        catch
        {
            await connection.DisposeAsync();
            hold.Dispose();
            throw;
        }
    }

    public async Task<StoredState?> ReadAsync(GrainId id, CancellationToken cancellationToken = default)
    {
        await using var cmd = dataSource.CreateCommand("SELECT state::text, version FROM grain_state WHERE grain_type = $1 AND grain_key = $2");
        cmd.Parameters.AddWithValue(id.Type);
        cmd.Parameters.AddWithValue(id.Key);
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) && !reader.IsDBNull(0) ? new StoredState(reader.GetString(0), reader.GetInt64(1)) : null;
    }

    public ValueTask DisposeAsync() => dataSource.DisposeAsync();

    private static async Task Execute(NpgsqlConnection connection, NpgsqlTransaction tx, string sql, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, connection, tx);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    private sealed class Turn(NpgsqlConnection connection, NpgsqlTransaction tx, GrainId id, StoredState? stored, IDisposable hold) : IGrainTurn
    {
        private string? _pending;
        private List<StagedWrite>? _staged;

        public StoredState? Stored { get; } = stored;

        public void Write(string json) => _pending = json;

        public void Stage(StagedWrite write) => (_staged ??= []).Add(write);

        public async Task CommitAsync(CancellationToken cancellationToken = default)
        {
            foreach (var write in _staged ?? [])
            {
                await connection.ExecuteAsync(new CommandDefinition(write.Sql, write.Param, tx, cancellationToken: cancellationToken));
            }

            if (_pending is not null)
            {
                await using var update = new NpgsqlCommand(
                    "UPDATE grain_state SET state = $3, version = version + 1, updated_at = now() WHERE grain_type = $1 AND grain_key = $2",
                    connection, tx);
                update.Parameters.AddWithValue(id.Type);
                update.Parameters.AddWithValue(id.Key);
                update.Parameters.Add(new NpgsqlParameter { Value = _pending, NpgsqlDbType = NpgsqlDbType.Jsonb });
                await update.ExecuteNonQueryAsync(cancellationToken);
            }

            await tx.CommitAsync(cancellationToken);
        }

        public async ValueTask DisposeAsync()
        {
            await tx.DisposeAsync(); // rolls back unless committed
            await connection.DisposeAsync();
            hold.Dispose();
        }
    }
}
