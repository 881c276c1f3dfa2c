using Actors.Storage.Queue;

namespace Actors.Storage.Tests.Queue;

public sealed class SqliteJobQueueTests : JobQueueConformance, IDisposable
{
    private readonly string _path = Path.Combine(Directory.CreateTempSubdirectory("actors-queue-").FullName, "cluster.db");

    protected override async Task<IJobQueue> NewQueueAsync()
    {
        return new SqliteJobQueue(await MigratedStores.SqliteAsync(_path), Time);
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(Path.GetDirectoryName(_path)!, recursive: true);
    }
}
