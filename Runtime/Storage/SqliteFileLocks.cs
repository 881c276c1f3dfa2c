using System.Collections.Concurrent;

namespace Actors.Runtime.Storage;

/// <summary>Per SQLite file in this process: the per-grain turn locks and the one writer lock
/// every writer (grain state, queue) takes, because SQLite under write contention can starve a
/// writer for seconds even with busy_timeout.</summary>
internal sealed class SqliteFileLocks
{
    private static readonly ConcurrentDictionary<string, SqliteFileLocks> Files = new(StringComparer.Ordinal);

    public static SqliteFileLocks For(string fullPath) => Files.GetOrAdd(fullPath, _ => new SqliteFileLocks());

    public KeyedLock<GrainId> Grains { get; } = new();

    public SemaphoreSlim Writer { get; } = new(1, 1);
}
