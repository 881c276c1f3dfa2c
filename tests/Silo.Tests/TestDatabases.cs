using Npgsql;

namespace Actors.Silo.Tests;

/// <summary>Fresh databases on the test PostgreSQL server (ACTORS_TEST_PG, started by scripts/test).</summary>
public static class TestDatabases
{
    public static string Server => Environment.GetEnvironmentVariable("ACTORS_TEST_PG") is { Length: > 0 } cs
        ? cs
        : throw new InvalidOperationException("ACTORS_TEST_PG is not set: run the tests through scripts/test, which starts PostgreSQL");

    /// <summary>The test Redis (ACTORS_TEST_REDIS, started by scripts/test), where a test's silos meet.</summary>
    public static string Redis => Environment.GetEnvironmentVariable("ACTORS_TEST_REDIS") is { Length: > 0 } r
        ? r
        : throw new InvalidOperationException("ACTORS_TEST_REDIS is not set: run the tests through scripts/test, which starts Redis");

    /// <summary>Settings that make silos on <paramref name="connectionString"/>'s database one Orleans
    /// cluster of their own (through the test Redis, keyed by the database's name).</summary>
    public static IEnumerable<(string Key, string Value)> ClusterOn(string connectionString)
    {
        var database = new NpgsqlConnectionStringBuilder(connectionString).Database!;
        return [("Cluster:Redis", Redis), ("Cluster:ClusterId", database), ("Cluster:ServiceId", database)];
    }

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
