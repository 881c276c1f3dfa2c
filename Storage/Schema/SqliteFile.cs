using Microsoft.Data.Sqlite;

namespace Actors.Storage.Schema;

/// <summary>One SQLite file as the embedded stores share it: its connection string and its
/// in-process locks (<see cref="SqliteFileLocks"/>); every write goes through
/// <see cref="WriteAsync{T}"/>.</summary>
internal sealed class SqliteFile
{
    public SqliteFile(string path)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        ConnectionString = new SqliteConnectionStringBuilder { DataSource = full, Pooling = true, DefaultTimeout = 30 }.ToString();
        Locks = SqliteFileLocks.For(full);
    }

    public string ConnectionString { get; }

    public SqliteFileLocks Locks { get; }

    public async Task<SqliteConnection> OpenAsync(CancellationToken ct)
    {
        var connection = new SqliteConnection(ConnectionString);
        await connection.OpenAsync(ct);
        return connection;
    }

    /// <summary>Runs <paramref name="write"/> on a fresh connection under the file's writer lock.</summary>
    public async Task<T> WriteAsync<T>(Func<SqliteConnection, Task<T>> write, CancellationToken ct)
    {
        await Locks.Writer.WaitAsync(ct);
        try
        {
            await using var connection = await OpenAsync(ct);
            return await write(connection);
        }
        finally
        {
            Locks.Writer.Release();
        }
    }
}
