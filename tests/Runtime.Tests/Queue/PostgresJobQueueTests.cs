using Actors.Runtime.Queue;
using Actors.Runtime.Tests.Storage;
using Npgsql;

namespace Actors.Runtime.Tests.Queue;

public sealed class PostgresJobQueueTests(PostgresDatabase database) : JobQueueConformance, IClassFixture<PostgresDatabase>
{
    protected override async Task<IJobQueue> NewQueueAsync()
    {
        return new PostgresJobQueue(NpgsqlDataSource.Create(await MigratedStores.PostgresAsync(database.ConnectionString)), Time);
    }
}
