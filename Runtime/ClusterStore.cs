using Actors.Runtime.Membership;
using Actors.Runtime.Queue;
using Actors.Runtime.Sql;
using Actors.Runtime.Storage;
using Npgsql;

namespace Actors.Runtime;

/// <summary>Everything the cluster keeps, on one store: grain state, the job queue, membership
/// and the shared tables. PostgreSQL for a cluster, one SQLite file embedded.</summary>
public sealed class ClusterStore : IAsyncDisposable
{
    private readonly NpgsqlDataSource? _dataSource;

    private ClusterStore(IGrainStorage grains, IJobQueue queue, IMembershipTable membership, SqlStore sql, string description, NpgsqlDataSource? dataSource)
    {
        Grains = grains;
        Queue = queue;
        Membership = membership;
        Sql = sql;
        Description = description;
        _dataSource = dataSource;
    }

    public IGrainStorage Grains { get; }

    public IJobQueue Queue { get; }

    public IMembershipTable Membership { get; }

    public SqlStore Sql { get; }

    /// <summary>"postgres host:port/db" or "sqlite path", for logs and the dashboard.</summary>
    public string Description { get; }

    public static ClusterStore Postgres(string connectionString, TimeProvider time)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        var dataSource = NpgsqlDataSource.Create(connectionString);
        return new ClusterStore(new PostgresGrainStorage(dataSource), new PostgresJobQueue(dataSource, time),
            new PostgresMembershipTable(dataSource, time), SqlStore.Postgres(dataSource),
            $"postgres {builder.Host}:{builder.Port}/{builder.Database}", dataSource);
    }

    public static ClusterStore Sqlite(string path, TimeProvider time) =>
        new(new SqliteGrainStorage(path), new SqliteJobQueue(path, time), new SqliteMembershipTable(path, time),
            SqlStore.Sqlite(new SqliteFile(path)), $"sqlite {Path.GetFullPath(path)}", null);

    public Task MigrateAsync(CancellationToken cancellationToken = default) => Grains.MigrateAsync(cancellationToken);

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
