using Actors.Runtime.Membership;
using Actors.Runtime.Storage;

namespace Actors.Runtime.Tests.Membership;

public sealed class SqliteMembershipTableTests : MembershipConformance, IDisposable
{
    private readonly string _path = Path.Combine(Directory.CreateTempSubdirectory("actors-members-").FullName, "cluster.db");

    protected override async Task<IMembershipTable> NewTableAsync()
    {
        await new SqliteGrainStorage(_path).MigrateAsync();
        return new SqliteMembershipTable(_path, Time);
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(Path.GetDirectoryName(_path)!, recursive: true);
    }
}
