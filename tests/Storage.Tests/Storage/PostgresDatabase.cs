using Npgsql;

namespace Actors.Storage.Tests.Storage;

/// <summary>One database per test class on the server scripts/test starts (ACTORS_TEST_PG).</summary>
public sealed class PostgresDatabase : IAsyncLifetime
{
    public string ConnectionString { get; private set; } = "";

    public async ValueTask InitializeAsync()
    {
        var server = Environment.GetEnvironmentVariable("ACTORS_TEST_PG");
        if (string.IsNullOrEmpty(server))
        {
            throw new InvalidOperationException("ACTORS_TEST_PG is not set: run the tests through scripts/test, which starts PostgreSQL on a loopback port");
        }

        var name = "actors_" + Guid.NewGuid().ToString("N")[..12];
        await using (var admin = new NpgsqlConnection(server))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", admin);
            await create.ExecuteNonQueryAsync();
        }

        ConnectionString = new NpgsqlConnectionStringBuilder(server) { Database = name }.ToString();
    }

    public ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        return ValueTask.CompletedTask;
    }
}
