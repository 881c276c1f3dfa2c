using Actors.Storage.Queue;
using Actors.Storage.Sql;
using Actors.Storage.Schema;
using Npgsql;

namespace Actors.Storage;

/// <summary>What the cluster keeps beside Orleans' grain state and reminders, on the same store:
/// the job queue and the shared tables, and the schema of all of it. PostgreSQL for a
/// cluster, one SQLite file embedded.</summary>
public sealed class ClusterStore : IAsyncDisposable
{
    private readonly NpgsqlDataSource? _dataSource;

    private readonly string? _sqlitePath;

    private ClusterStore(IJobQueue queue, SqlStore sql, string description, NpgsqlDataSource? dataSource, string? sqlitePath)
    {
        Queue = queue;
        Sql = sql;
        Description = description;
        _dataSource = dataSource;
        _sqlitePath = sqlitePath;
    }

    public IJobQueue Queue { get; }

    public SqlStore Sql { get; }

    /// <summary>"postgres host:port/db" or "sqlite path", for logs and the dashboard.</summary>
    public string Description { get; }

    /// <summary>"postgres" or "sqlite": what public endpoints may say about the store.</summary>
    public string Kind => _dataSource is not null ? "postgres" : "sqlite";

    public static ClusterStore Postgres(string connectionString, TimeProvider time)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        var dataSource = NpgsqlDataSource.Create(Actors.Storage.Sql.PostgresConnections.Lean(connectionString));
        return new ClusterStore(new PostgresJobQueue(dataSource, time), SqlStore.Postgres(dataSource),
            $"postgres {builder.Host}:{builder.Port}/{builder.Database}", dataSource, null);
    }

    public static ClusterStore Sqlite(string path, TimeProvider time) =>
        new(new SqliteJobQueue(path, time),
            SqlStore.Sqlite(new SqliteFile(path)), $"sqlite {Path.GetFullPath(path)}", null, Path.GetFullPath(path));

    /// <summary>The SQLite file of the embedded store; null on PostgreSQL.</summary>
    public string? SqlitePath => _sqlitePath;

    /// <summary>Applies the schema migrations (ours and Orleans' provider tables) not yet applied.</summary>
    public Task MigrateAsync(CancellationToken cancellationToken = default) =>
        _dataSource is not null ? SchemaMigrator.PostgresAsync(_dataSource, cancellationToken) : SchemaMigrator.SqliteAsync(_sqlitePath!, cancellationToken);

    /// <summary>True if the store answers a trivial query (readiness).</summary>
    public async Task<bool> PingAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            await using var connection = await Sql.OpenAsync(cancellationToken);
            await using var cmd = connection.CreateCommand();
            cmd.CommandText = "SELECT 1";
            await cmd.ExecuteScalarAsync(cancellationToken);
            return true;
        }
        catch (Exception e) when (e is System.Data.Common.DbException or TimeoutException or InvalidOperationException or IOException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_dataSource is not null)
        {
            await _dataSource.DisposeAsync();
        }
    }
}
