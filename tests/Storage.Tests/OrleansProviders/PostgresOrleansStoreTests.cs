using Actors.Storage.Tests.Storage;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace Actors.Storage.Tests.OrleansProviders;

public sealed class PostgresOrleansStoreTests(PostgresDatabase database) : OrleansStoreConformance, IClassFixture<PostgresDatabase>
{
    protected override async Task<IHost> StartSiloAsync(string serviceId) =>
        await TestSilo.StartAsync(serviceId, postgres: await MigratedStores.PostgresAsync(database.ConnectionString));

    protected override async Task<long> StoredRowsAsync(string serviceId)
    {
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT count(*) FROM OrleansStorage WHERE ServiceId = $1", connection);
        cmd.Parameters.AddWithValue(serviceId);
        return (long)(await cmd.ExecuteScalarAsync())!;
    }
}
