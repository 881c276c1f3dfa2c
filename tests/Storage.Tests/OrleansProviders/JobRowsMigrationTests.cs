using System.Data.Common;
using Actors.Grains.Jobs;
using Actors.Storage.OrleansProviders;
using Actors.Storage.Schema;
using Actors.Storage.Sql;
using Actors.Storage.Tests.Storage;
using Dapper;
using Microsoft.Data.Sqlite;
using Npgsql;
using Orleans;
using Orleans.Runtime;

namespace Actors.Storage.Tests.OrleansProviders;

/// <summary>Migration 011 moves job states an older version stored in <c>OrleansStorage</c> into
/// their rows of <c>jobs</c>, and <see cref="JobStateStorage"/> reads them back; a state whose
/// listing row a crash had lost gets one, and a stale listing takes the state's status.</summary>
public sealed class JobRowsMigrationTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>
{
    private static readonly JobSnapshot Queued = new()
    {
        Status = JobStatus.Queued, QueuedAt = new DateTimeOffset(2026, 12, 1, 8, 0, 0, TimeSpan.Zero),
        Request = new JobRequest { TenantId = "tenant-m", Model = "identity", ModelVersion = "1.0.0", Tier = 2, InputRef = new string('c', 64) },
    };

    [Fact]
    public async Task PostgreSQL()
    {
        await MigratedStores.PostgresAsync(database.ConnectionString);
        await using var data = NpgsqlDataSource.Create(database.ConnectionString);
        await ProveAsync(await data.OpenConnectionAsync(), SqlStore.Postgres(data), "now()");
    }

    [Fact]
    public async Task SQLite()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("actors-migrate-").FullName, "m.db");
        await MigratedStores.SqliteAsync(path);
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        await connection.OpenAsync();
        await ProveAsync(connection, SqlStore.Sqlite(new SqliteFile(path)), "datetime('now')");
    }

    private static async Task ProveAsync(DbConnection c, SqlStore store, string now)
    {
        await using (c)
        {
            // As the version before 011 left them: two job states in OrleansStorage, one with its
            // listing row (stale: it says New), one whose listing row never made it.
            var payload = new JsonGrainStateSerializer().Serialize(Queued).ToArray();
            var ordinal = 0;
            foreach (var id in new[] { "job-listed", "job-unlisted" })
            {
                await c.ExecuteAsync(
                    $"INSERT INTO OrleansStorage (GrainIdHash, GrainIdN0, GrainIdN1, GrainTypeHash, GrainTypeString, GrainIdExtensionString, ServiceId, PayloadBinary, ModifiedOn, Version) " +
                    $"VALUES (@Hash, 0, 0, 7, 'job', @Id, 'svc', @Payload, {now}, 4)", new { Hash = ++ordinal, Id = id, Payload = payload });
            }

            await c.ExecuteAsync("INSERT INTO jobs (job_id, tenant_id, model, tier, status, created_ms, updated_ms) VALUES ('job-listed', 'tenant-m', 'identity', 2, 'New', 1, 1)");

            // 011 again, past its column additions (applied already by the migrator).
            var script = MigrationScripts.For(store.IsPostgres ? "Postgres" : "Sqlite").Single(m => m.Version == 11).Sql!;
            await c.ExecuteAsync(script[script.IndexOf("INSERT INTO jobs", StringComparison.Ordinal)..]);

            var rows = (await c.QueryAsync<(string Id, string Tenant, string Status, long Version)>(
                "SELECT job_id, tenant_id, status, version FROM jobs ORDER BY job_id")).ToList();
            Assert.Equal([("job-listed", "tenant-m", "Queued", 4L), ("job-unlisted", "tenant-m", "Queued", 4L)], rows);
            Assert.Equal(0L, await c.ExecuteScalarAsync<long>("SELECT count(*) FROM OrleansStorage WHERE GrainTypeString = 'job'"));
        }

        var storage = new JobStateStorage(store, TimeProvider.System);
        var state = new GrainState<JobSnapshot>(new JobSnapshot());
        await storage.ReadStateAsync("job", GrainId.Create("job", "job-unlisted"), state);
        Assert.Equal((JobStatus.Queued, "tenant-m", "4", true), (state.State!.Status, state.State.TenantId, state.ETag, state.RecordExists));

        // And the next transition is one write over that version.
        state.State = state.State with { Status = JobStatus.Running, Attempts = 1 };
        await storage.WriteStateAsync("job", GrainId.Create("job", "job-unlisted"), state);
        Assert.Equal("5", state.ETag);
    }
}
