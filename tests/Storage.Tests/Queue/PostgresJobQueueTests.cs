using Actors.Storage.Queue;
using Actors.Storage.Tests.Storage;
using Npgsql;

namespace Actors.Storage.Tests.Queue;

public sealed class PostgresJobQueueTests(PostgresDatabase database) : JobQueueConformance, IClassFixture<PostgresDatabase>
{
    protected override async Task<IJobQueue> NewQueueAsync()
    {
        return new PostgresJobQueue(NpgsqlDataSource.Create(await MigratedStores.PostgresAsync(database.ConnectionString)), Time);
    }
}
