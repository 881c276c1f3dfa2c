using Actors.Grains.Instances;
using Actors.Grains.Jobs;
using Actors.Storage;
using Actors.Storage.Blobs;
using Actors.Storage.Cache;
using Actors.Storage.Queue;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Actors.Grains.Tests;

/// <summary>A job is one row of <c>jobs</c> (its state and its listing columns, written together),
/// on a real silo over a SQLite file.</summary>
public sealed class JobRowTests : IAsyncDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("actors-jobrow-").FullName;
    private IHost? _silo;
    private ClusterStore? _store;

    private async Task<IGrainFactory> SiloAsync()
    {
        var path = Path.Combine(_dir, "grains.db");
        _store = ClusterStore.Sqlite(path, TimeProvider.System);
        var store = _store;
        _silo = await GrainsSilo.StartAsync(path, services => services
            .AddSingleton(TimeProvider.System)
            .AddSingleton(store.Queue).AddSingleton(store.Sql)
            .AddSingleton(new Actors.Fleet.Providers.InstanceProviders([])).AddSingleton<InstanceDirectory>()
            .AddSingleton(new Fleet.PoolOptions { TickSeconds = 5 })
            .AddActorsStores().AddSingleton<ResultCache>()
            .AddSingleton<QueueSignal>().AddSingleton<JobServices>()
            .AddSingleton<Actors.Grains.Billing.JobSettlement>()
            .AddSingleton(TestBilling.Options())
            .AddSingleton(sp => new BlobStore(new FileObjectStore(Path.Combine(_dir, "blobs")), store.Sql, TimeProvider.System))
            .AddSingleton(new Cluster.RetentionPolicy(TimeSpan.FromMinutes(10), TimeSpan.FromHours(1))));
        return _silo.Services.GetRequiredService<IGrainFactory>();
    }

    private async Task<(string Status, string? State, long Version)> RowAsync(string jobId)
    {
        await using var c = await _store!.Sql.OpenAsync();
        return await c.QuerySingleAsync<(string, string?, long)>("SELECT status, state_json, version FROM jobs WHERE job_id = @Id", new { Id = jobId });
    }

    private static JobRequest Request(string? inline) => new()
    {
        TenantId = "tenant-a", Model = "segmentation", ModelVersion = "1.0.0", Tier = 2, InputRef = new string('b', 64), InputInline = inline,
        Parameters = new() { Seed = 3 },
    };

    [Fact]
    public async Task EachTransitionIsOneRowWithItsListingAndAnEndedJobDropsItsInlineInput()
    {
        var grains = await SiloAsync();
        var job = grains.GetGrain<IJobGrain>("job-row-1");
        var input = Convert.ToBase64String(new byte[64]);
        await job.SubmitAsync(Request(input));
        var queued = await RowAsync("job-row-1");
        Assert.Equal("Queued", queued.Status);
        Assert.Contains(input, queued.State, StringComparison.Ordinal);
        Assert.Equal(1, queued.Version);

        // A repeated submission (same request) changes nothing; the start is one write.
        await job.SubmitAsync(Request(input));
        await job.StartAsync("gpu-1", 1);
        Assert.Equal(("Running", 2L), ((await RowAsync("job-row-1")).Status, (await RowAsync("job-row-1")).Version));

        await job.SucceedAsync(1, new JobResult(null, null, false, 1.5, "job-row-1", "{\"ok\":true}"));
        var done = await RowAsync("job-row-1");
        Assert.Equal("Succeeded", done.Status);
        Assert.DoesNotContain(input, done.State, StringComparison.Ordinal); // the input went with the end
        Assert.Contains("ok", done.State, StringComparison.Ordinal);         // the small output stays in the row
        Assert.Null((await job.GetAsync()).Request!.InputInline);

        // The same request again after the end is still a repeat, not a new job.
        Assert.Equal(JobStatus.Succeeded, (await job.SubmitAsync(Request(input))).Status);
        Assert.Equal(3, (await RowAsync("job-row-1")).Version);

        // Erasure takes what the row kept inline.
        await job.EraseDataAsync("test", audit: false);
        Assert.DoesNotContain("ok", (await RowAsync("job-row-1")).State, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AWriteOverAVersionItDidNotReadChangesNothing()
    {
        var grains = await SiloAsync();
        var job = grains.GetGrain<IJobGrain>("job-row-2");
        await job.SubmitAsync(Request(null));

        // Another activation (on a silo that thought it owned the job) wrote meanwhile.
        await using (var c = await _store!.Sql.OpenAsync())
        {
            await c.ExecuteAsync("UPDATE jobs SET version = version + 1 WHERE job_id = 'job-row-2'");
        }

        await Assert.ThrowsAnyAsync<Exception>(() => job.StartAsync("gpu-1", 1));
        var row = await RowAsync("job-row-2");
        Assert.Equal(("Queued", 2L), (row.Status, row.Version));

        // The failed write dropped the activation: the next call reads the row again and goes on.
        Assert.Equal(JobStatus.Running, (await job.StartAsync("gpu-1", 1)).Status);
        Assert.Equal(("Running", 3L), ((await RowAsync("job-row-2")).Status, (await RowAsync("job-row-2")).Version));
    }

    [Fact]
    public async Task ARefusedTransitionKeepsTheActivation()
    {
        var grains = await SiloAsync();
        var job = grains.GetGrain<IJobGrain>("job-row-3");
        await job.SubmitAsync(Request(null));
        await job.StartAsync("gpu-1", 1);
        await job.ReportProgressAsync(1, new JobProgress(3, 10, "slices")); // held in memory only

        await Assert.ThrowsAsync<InvalidTransitionException>(() => job.SucceedAsync(2, new JobResult(null, null, false)));
        await Task.Delay(200); // a dropped activation would be gone by now, with its progress
        Assert.Equal(new JobProgress(3, 10, "slices"), (await job.GetAsync()).Progress);
    }

    public async ValueTask DisposeAsync()
    {
        if (_silo is not null)
        {
            await _silo.StopAsync();
            _silo.Dispose();
        }

        Directory.Delete(_dir, recursive: true);
    }
}
