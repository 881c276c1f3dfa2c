using Npgsql;

namespace Actors.Silo.Tests;

/// <summary>Fresh databases on the test PostgreSQL server (ACTORS_TEST_PG, started by scripts/test).</summary>
public static class TestDatabases
{
    public static string Server => Environment.GetEnvironmentVariable("ACTORS_TEST_PG") is { Length: > 0 } cs
        ? cs
        : throw new InvalidOperationException("ACTORS_TEST_PG is not set: run the tests through scripts/test, which starts PostgreSQL");

    public static string Create(string prefix)
    {
        var name = $"{prefix}_{Guid.NewGuid():N}"[..30];
        using (var connection = new NpgsqlConnection(Server))
        {
            connection.Open();
            using var cmd = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            cmd.ExecuteNonQuery();
        }

        return new NpgsqlConnectionStringBuilder(Server) { Database = name, MaxPoolSize = 40 }.ConnectionString;
    }
}
