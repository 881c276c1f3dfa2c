using Actors.Runtime.Membership;
using Actors.Runtime.Storage;
using Actors.Runtime.Tests.Storage;
using Npgsql;

namespace Actors.Runtime.Tests.Membership;

public sealed class PostgresMembershipTableTests(PostgresDatabase database) : MembershipConformance, IClassFixture<PostgresDatabase>
{
    protected override async Task<IMembershipTable> NewTableAsync()
    {
        await using (var storage = PostgresGrainStorage.Create(database.ConnectionString))
        {
            await storage.MigrateAsync();
        }

        return new PostgresMembershipTable(NpgsqlDataSource.Create(database.ConnectionString), Time);
    }
}
