using Npgsql;

namespace Actors.Cluster.Bench;

/// <summary>A fresh database on the bench's PostgreSQL server, for one phase.</summary>
internal static class BenchDatabase
{
    public static string Create(string server, string prefix)
    {
        var name = $"{prefix}_{Guid.NewGuid():N}"[..28];
        using var connection = new NpgsqlConnection(server);
        connection.Open();
        using var cmd = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
        cmd.ExecuteNonQuery();
        return new NpgsqlConnectionStringBuilder(server) { Database = name, MaxPoolSize = 100 }.ConnectionString;
    }
}
