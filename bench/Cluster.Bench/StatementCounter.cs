using System.Globalization;
using Npgsql;

namespace Actors.Cluster.Bench;

/// <summary>SQL statements a database ran, counted by the server (pg_stat_statements; the bench's
/// PostgreSQL loads it: scripts/lib/postgres.sh). BEGIN/COMMIT/ROLLBACK are counted apart, as
/// transactions; every other statement (reads and writes, our own and Orleans') is a statement.</summary>
internal sealed class StatementCounter
{
    private readonly string _connectionString;
    private readonly bool _available;

    private StatementCounter(string connectionString, bool available)
    {
        _connectionString = connectionString;
        _available = available;
    }

    public static StatementCounter For(string connectionString)
    {
        try
        {
            using var connection = new NpgsqlConnection(connectionString);
            connection.Open();
            using var create = new NpgsqlCommand("CREATE EXTENSION IF NOT EXISTS pg_stat_statements", connection);
            create.ExecuteNonQuery();
            using var probe = new NpgsqlCommand("SELECT count(*) FROM pg_stat_statements", connection);
            probe.ExecuteScalar();
            return new StatementCounter(connectionString, true);
        }
        catch (PostgresException e)
        {
            Console.WriteLine($"  (statements not counted: {e.MessageText}; start PostgreSQL with shared_preload_libraries=pg_stat_statements)");
            return new StatementCounter(connectionString, false);
        }
    }

    /// <summary>What this database has run so far, per normalised statement.</summary>
    public Snapshot Take()
    {
        var calls = new Dictionary<string, long>(StringComparer.Ordinal);
        if (!_available)
        {
            return new Snapshot(calls);
        }

        using var connection = new NpgsqlConnection(_connectionString);
        connection.Open();
        using var cmd = new NpgsqlCommand(
            "SELECT s.query, sum(s.calls)::bigint FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid " +
            "WHERE d.datname = current_database() GROUP BY s.query", connection);
        using var reader = cmd.ExecuteReader();
        while (reader.Read())
        {
            calls[reader.GetString(0)] = reader.GetInt64(1);
        }

        return new Snapshot(calls);
    }

    public bool Available => _available;

    internal sealed record Snapshot(IReadOnlyDictionary<string, long> Calls)
    {
        public Delta Since(Snapshot before) =>
            new(Calls.Select(c => (c.Key, c.Value - before.Calls.GetValueOrDefault(c.Key))).Where(c => c.Item2 > 0).ToDictionary(c => c.Key, c => c.Item2));
    }

    internal sealed record Delta(IReadOnlyDictionary<string, long> Calls)
    {
        private static bool IsTransactionControl(string query) =>
            query.TrimStart().Split(' ', 2)[0].ToUpperInvariant() is "BEGIN" or "COMMIT" or "ROLLBACK" or "START" or "SAVEPOINT" or "RELEASE";

        private static bool IsWrite(string query)
        {
            var q = query.ToUpperInvariant();
            return q.Contains("INSERT ", StringComparison.Ordinal) || q.Contains("UPDATE ", StringComparison.Ordinal) || q.Contains("DELETE ", StringComparison.Ordinal);
        }

        public long Statements => Calls.Where(c => !IsTransactionControl(c.Key)).Sum(c => c.Value);

        public long Writes => Calls.Where(c => !IsTransactionControl(c.Key) && IsWrite(c.Key)).Sum(c => c.Value);

        public long Commits => Calls.Where(c => c.Key.TrimStart().StartsWith("COMMIT", StringComparison.OrdinalIgnoreCase)).Sum(c => c.Value);

        public string PerJob(long jobs) => jobs == 0 ? "n/a" : string.Create(CultureInfo.InvariantCulture,
            $"{Statements / (double)jobs:0.0} statements per job ({Writes / (double)jobs:0.0} writes; {Commits / (double)jobs:0.0} explicit transactions)");

        /// <summary>The statements that ran most, per job, for reading where they go.</summary>
        public IEnumerable<string> Top(long jobs, int count) => Calls.Where(c => !IsTransactionControl(c.Key)).OrderByDescending(c => c.Value).Take(count)
            .Select(c => string.Create(CultureInfo.InvariantCulture, $"  {c.Value / (double)Math.Max(1, jobs),6:0.00}  {Shorten(c.Key)}"));

        private static string Shorten(string query)
        {
            var one = string.Join(' ', query.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
            return one.Length <= 140 ? one : one[..140] + " …";
        }
    }
}
