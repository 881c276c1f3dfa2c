using Actors.Grains.Jobs;
using Actors.Storage.ReadModels;
using Actors.Storage.Sql;
using Actors.Storage.Tests.Storage;

namespace Actors.Storage.Tests.ReadModels;

/// <summary>The job index's page through one tenant's jobs (what a tenant's erasure walks), on
/// each SQL store: in creation order, after a key rather than an offset, bounded by a creation time.</summary>
public abstract class JobIndexConformance : IAsyncLifetime
{
    private static readonly DateTimeOffset Start = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    protected ManualTime Time { get; } = new(Start);

    private JobIndex _index = null!;

    private SqlStore _store = null!;

    protected abstract Task<SqlStore> SqlAsync();

    public async ValueTask InitializeAsync()
    {
        _store = await SqlAsync();
        _index = new JobIndex(_store, Time);
    }

    public ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }

    private Task AddAsync(string jobId, string tenant) =>
        JobRows.UpsertAsync(_store, new JobSnapshot { JobId = jobId, Status = JobStatus.Succeeded, Request = new JobRequest { TenantId = tenant, Model = "m", ModelVersion = "1" } }, Time.GetUtcNow());

    private async Task<List<string>> WalkAsync(string tenant, long untilMs, int pageSize, Func<Task>? betweenPages = null)
    {
        var seen = new List<string>();
        var (after, afterJob) = (long.MinValue, "");
        while (true)
        {
            var page = await _index.JobsOfTenantAsync(tenant, after, afterJob, untilMs, pageSize);
            Assert.True(page.Count <= pageSize);
            seen.AddRange(page.Select(j => j.JobId));
            if (page.Count < pageSize)
            {
                return seen;
            }

            (after, afterJob) = (page[^1].CreatedMs, page[^1].JobId);
            if (betweenPages is not null)
            {
                await betweenPages();
            }
        }
    }

    [Fact]
    public async Task ArrivalsAreCountedPerClockHourAndTier()
    {
        // Start is 12:00: two Pro jobs at 12:10 and 12:50, one Free at 13:05, one Pro at 14:59:59.
        var hour = Start.ToUnixTimeSeconds() / 3600;
        foreach (var (id, at, tier) in new[] { ("h-1", 10, 2), ("h-2", 50, 2), ("h-3", 65, 0), ("h-4", 179, 2) })
        {
            await JobRows.UpsertAsync(_store, new JobSnapshot { JobId = id, Status = JobStatus.Queued, Request = new JobRequest { TenantId = "t", Model = "m", ModelVersion = "1", Tier = tier } },
                Start.AddMinutes(at).AddSeconds(at == 179 ? 59 : 0));
        }

        var rows = (await _index.ArrivalsPerHourAsync(Start)).OrderBy(r => r.Hour).ThenBy(r => r.Tier).ToList();
        Assert.Equal([(hour, 2, 2L), (hour + 1, 0, 1L), (hour + 2, 2, 1L)], rows);
        Assert.Equal([(hour + 1, 0, 1L), (hour + 2, 2, 1L)], (await _index.ArrivalsPerHourAsync(Start.AddMinutes(60))).OrderBy(r => r.Hour).ToList());
    }

    [Fact]
    public async Task PagesWalkEveryJobOfTheTenantOnceInCreationOrderEvenWhenJobsGoMeanwhile()
    {
        // Three jobs in one millisecond (the key breaks the tie), then one a second, another
        // tenant's between them, and one created after the walk's bound.
        foreach (var id in new[] { "j-c", "j-a", "j-b" })
        {
            await AddAsync(id, "t1");
        }

        for (var i = 1; i <= 4; i++)
        {
            Time.Advance(TimeSpan.FromSeconds(1));
            await AddAsync($"k-{i}", "t1");
            await AddAsync($"other-{i}", "t2");
        }

        var until = Time.GetUtcNow().ToUnixTimeMilliseconds();
        Time.Advance(TimeSpan.FromSeconds(1));
        await AddAsync("late", "t1");

        string[] expected = ["j-a", "j-b", "j-c", "k-1", "k-2", "k-3", "k-4"];
        foreach (var size in new[] { 1, 2, 3, 7, 100 })
        {
            Assert.Equal(expected, await WalkAsync("t1", until, size));
        }

        // Jobs purged between pages (an offset would then skip the ones after them) move nothing.
        var removed = 0;
        var walked = await WalkAsync("t1", until, 2, async () => await JobRows.RemoveAsync(_store, expected[removed++]));
        Assert.Equal(expected, walked);
        Assert.Empty(await WalkAsync("nobody", until, 2));
    }
}

public sealed class SqliteJobIndexTests : JobIndexConformance
{
    protected override async Task<SqlStore> SqlAsync()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("actors-index-db-").FullName, "index.db");
        return ClusterStore.Sqlite(await MigratedStores.SqliteAsync(path), Time).Sql;
    }
}

public sealed class PostgresJobIndexTests : JobIndexConformance
{
    private readonly PostgresDatabase _database = new(); // a database per test: no test sees another's rows

    protected override async Task<SqlStore> SqlAsync()
    {
        await _database.InitializeAsync();
        return ClusterStore.Postgres(await MigratedStores.PostgresAsync(_database.ConnectionString), Time).Sql;
    }
}
