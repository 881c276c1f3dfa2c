using Npgsql;

namespace Actors.Silo.Tests;

/// <summary>The silo with every role on PostgreSQL (ACTORS_TEST_PG), in a database of its own.</summary>
public sealed class PostgresSiloFactory : SiloFactory
{
    public string ConnectionString { get; } = TestDatabases.Create("silo");

    protected override IEnumerable<(string Key, string Value)> Settings() =>
        [("Cluster:Store", "postgres"), ("Cluster:ConnectionString", ConnectionString)];
}
