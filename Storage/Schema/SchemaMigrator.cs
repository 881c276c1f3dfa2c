using System.Globalization;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Actors.Storage.Schema;

/// <summary>Applies the versioned scripts under Storage/Migrations/{Postgres,Sqlite} not yet applied
/// (our tables and Orleans' provider tables with their OrleansQuery rows). Safe to run from several
/// silos at once: PostgreSQL takes an advisory lock, SQLite the file's writer lock.</summary>
public static class SchemaMigrator
{
    private const long MigrationLockId = 0x4163746F7273; // "Actors"

    public static async Task PostgresAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        await Execute(new NpgsqlCommand($"SELECT pg_advisory_xact_lock({MigrationLockId})", connection, tx), cancellationToken);
        await Execute(new NpgsqlCommand("CREATE TABLE IF NOT EXISTS schema_migrations (version int PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())", connection, tx), cancellationToken);
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
            await Execute(new NpgsqlCommand(sql, connection, tx), cancellationToken);
            var record = new NpgsqlCommand("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", connection, tx);
            record.Parameters.AddWithValue(version);
            record.Parameters.AddWithValue(name);
            await Execute(record, cancellationToken);
        }

        await tx.CommitAsync(cancellationToken);
    }

    public static Task SqliteAsync(string path, CancellationToken cancellationToken = default) => SqliteAsync(new SqliteFile(path), cancellationToken);

    internal static Task SqliteAsync(SqliteFile file, CancellationToken cancellationToken = default) =>
        file.WriteAsync(async connection =>
        {
            await Execute(new SqliteCommand("PRAGMA journal_mode=WAL", connection), cancellationToken);
            await using var tx = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
            await Execute(new SqliteCommand("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)", connection, tx), cancellationToken);
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
                await Execute(new SqliteCommand(sql, connection, tx), cancellationToken);
                var record = new SqliteCommand("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($v, $n, $t)", connection, tx);
                record.Parameters.AddWithValue("$v", version);
                record.Parameters.AddWithValue("$n", name);
                record.Parameters.AddWithValue("$t", DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture));
                await Execute(record, cancellationToken);
            }

            await tx.CommitAsync(cancellationToken);
            return true;
        }, cancellationToken);

    private static async Task Execute(System.Data.Common.DbCommand cmd, CancellationToken ct)
    {
        await using (cmd)
        {
            await cmd.ExecuteNonQueryAsync(ct);
        }
    }
}
