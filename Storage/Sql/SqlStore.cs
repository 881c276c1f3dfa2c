using System.Data.Common;
using Actors.Storage.Schema;
using Npgsql;

namespace Actors.Storage.Sql;

/// <summary>Connections to the cluster's store for the tables written once for both dialects
/// (reminders, blobs, result cache, idempotency keys, job index, webhook deliveries). Their SQL
/// uses <c>@name</c> parameters, unix-millisecond times and <see cref="SkipLocked"/>.</summary>
public abstract class SqlStore
{
    /// <summary>" FOR UPDATE SKIP LOCKED" on PostgreSQL; empty on SQLite, where every write
    /// already holds the file's writer lock.</summary>
    public abstract string SkipLocked { get; }

    public abstract bool IsPostgres { get; }

    public abstract Task<DbConnection> OpenAsync(CancellationToken cancellationToken = default);

    /// <summary>Runs a write. PostgreSQL: on a pooled connection; SQLite: under the file's writer lock.</summary>
    public abstract Task<T> WriteAsync<T>(Func<DbConnection, Task<T>> write, CancellationToken cancellationToken = default);

    public async Task<T> ReadAsync<T>(Func<DbConnection, Task<T>> read, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        return await read(connection);
    }

    internal static SqlStore Postgres(NpgsqlDataSource dataSource) => new PostgresSqlStore(dataSource);

    internal static SqlStore Sqlite(SqliteFile file) => new SqliteSqlStore(file);

    private sealed class PostgresSqlStore(NpgsqlDataSource dataSource) : SqlStore
    {
        public override string SkipLocked => " FOR UPDATE SKIP LOCKED";

        public override bool IsPostgres => true;

        public override async Task<DbConnection> OpenAsync(CancellationToken cancellationToken = default) =>
            await dataSource.OpenConnectionAsync(cancellationToken);

        public override async Task<T> WriteAsync<T>(Func<DbConnection, Task<T>> write, CancellationToken cancellationToken = default)
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            return await write(connection);
        }
    }

    private sealed class SqliteSqlStore(SqliteFile file) : SqlStore
    {
        public override string SkipLocked => "";

        public override bool IsPostgres => false;

        public override async Task<DbConnection> OpenAsync(CancellationToken cancellationToken = default) =>
            await file.OpenAsync(cancellationToken);

        public override Task<T> WriteAsync<T>(Func<DbConnection, Task<T>> write, CancellationToken cancellationToken = default) =>
            file.WriteAsync(c => write(c), cancellationToken);
    }
}
