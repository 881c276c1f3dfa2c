using Actors.Runtime.Membership;
using Actors.Runtime.Tests.Storage;
using Npgsql;

namespace Actors.Runtime.Tests.Membership;

public sealed class PostgresMembershipTableTests(PostgresDatabase database) : MembershipConformance, IClassFixture<PostgresDatabase>
{
    protected override async Task<IMembershipTable> NewTableAsync()
    {
        return new PostgresMembershipTable(NpgsqlDataSource.Create(await MigratedStores.PostgresAsync(database.ConnectionString)), Time);
    }
}
