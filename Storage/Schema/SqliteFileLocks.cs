using System.Collections.Concurrent;

namespace Actors.Storage.Schema;

/// <summary>Per SQLite file in this process: the one writer lock our writers (queue, side tables)
/// take, because SQLite under write contention can starve a writer for seconds even with
/// busy_timeout.</summary>
internal sealed class SqliteFileLocks
{
    private static readonly ConcurrentDictionary<string, SqliteFileLocks> Files = new(StringComparer.Ordinal);

    public static SqliteFileLocks For(string fullPath) => Files.GetOrAdd(fullPath, _ => new SqliteFileLocks());

    public SemaphoreSlim Writer { get; } = new(1, 1);
}
