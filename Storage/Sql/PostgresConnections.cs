using Npgsql;

namespace Actors.Storage.Sql;

/// <summary>How every pooled PostgreSQL connection of a silo is opened.</summary>
public static class PostgresConnections
{
    /// <summary>The connection string with <c>No Reset On Close</c>: a pooled connection is not
    /// reset (<c>DISCARD ALL</c>) each time it goes back to the pool. Nothing of ours keeps session
    /// state (no SET, LISTEN, advisory or temporary tables outside one transaction), and the reset
    /// was 20 of the 45 statements one job cost (bench/cluster-bench.sh, pg_stat_statements).
    /// And <c>Max Auto Prepare</c>: the statements a connection runs most are prepared on it (the
    /// server parses and plans them once, not on every call), unless the string sets its own.</summary>
    public static string Lean(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { NoResetOnClose = true };
        if (builder.MaxAutoPrepare == 0)
        {
            builder.MaxAutoPrepare = 64;
            builder.AutoPrepareMinUsages = 3;
        }

        return builder.ConnectionString;
    }
}
