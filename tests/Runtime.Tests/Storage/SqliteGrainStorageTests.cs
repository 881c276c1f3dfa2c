using Actors.Runtime.Storage;

namespace Actors.Runtime.Tests.Storage;

public sealed class SqliteGrainStorageTests : GrainRuntimeConformance, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("actors-sqlite-").FullName;

    protected override Task<IGrainStorage> NewStorageAsync() =>
        Task.FromResult<IGrainStorage>(new SqliteGrainStorage(Path.Combine(_dir, "grains.db")));

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }
}
