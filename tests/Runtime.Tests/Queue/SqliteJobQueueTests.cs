using Actors.Runtime.Queue;
using Actors.Runtime.Storage;

namespace Actors.Runtime.Tests.Queue;

public sealed class SqliteJobQueueTests : JobQueueConformance, IDisposable
{
    private readonly string _path = Path.Combine(Directory.CreateTempSubdirectory("actors-queue-").FullName, "cluster.db");

    protected override async Task<IJobQueue> NewQueueAsync()
    {
        await new SqliteGrainStorage(_path).MigrateAsync();
        return new SqliteJobQueue(_path, Time);
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(Path.GetDirectoryName(_path)!, recursive: true);
    }
}
