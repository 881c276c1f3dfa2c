using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Hosting;

namespace Actors.Storage.Tests.OrleansProviders;

public sealed class SqliteOrleansStoreTests : OrleansStoreConformance, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("actors-orleans-").FullName;

    private string Path => System.IO.Path.Combine(_dir, "cluster.db");

    protected override async Task<IHost> StartSiloAsync(string serviceId) =>
        await TestSilo.StartAsync(serviceId, sqlitePath: await MigratedStores.SqliteAsync(Path));

    protected override async Task<long> StoredRowsAsync(string serviceId)
    {
        await using var connection = new SqliteConnection($"Data Source={Path}");
        await connection.OpenAsync();
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = "SELECT count(*) FROM OrleansStorage WHERE ServiceId = $s";
        cmd.Parameters.AddWithValue("$s", serviceId);
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }
}
