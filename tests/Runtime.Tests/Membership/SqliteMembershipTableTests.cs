using Actors.Runtime.Membership;

namespace Actors.Runtime.Tests.Membership;

public sealed class SqliteMembershipTableTests : MembershipConformance, IDisposable
{
    private readonly string _path = Path.Combine(Directory.CreateTempSubdirectory("actors-members-").FullName, "cluster.db");

    protected override async Task<IMembershipTable> NewTableAsync()
    {
        return new SqliteMembershipTable(await MigratedStores.SqliteAsync(_path), Time);
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(Path.GetDirectoryName(_path)!, recursive: true);
    }
}
