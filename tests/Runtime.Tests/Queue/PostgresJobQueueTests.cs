using Actors.Runtime.Queue;
using Actors.Runtime.Storage;
using Actors.Runtime.Tests.Storage;
using Npgsql;

namespace Actors.Runtime.Tests.Queue;

public sealed class PostgresJobQueueTests(PostgresDatabase database) : JobQueueConformance, IClassFixture<PostgresDatabase>
{
    protected override async Task<IJobQueue> NewQueueAsync()
    {
        await using (var storage = PostgresGrainStorage.Create(database.ConnectionString))
        {
            await storage.MigrateAsync();
        }

        return new PostgresJobQueue(NpgsqlDataSource.Create(database.ConnectionString), Time);
    }
}
