using Actors.Grains.Instances;
using Actors.Grains.Jobs;
using Actors.Storage;
using Actors.Storage.Blobs;
using Actors.Storage.Cache;
using Actors.Storage.Queue;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Actors.Grains.Tests;

/// <summary>The grains on real Orleans silos (SQLite file), with a clock the test moves. Reminder
/// ticks are delivered by calling the grain's handler, in the test's time; that Orleans delivers
/// registered reminders is shown in Storage.Tests.</summary>
public sealed partial class GrainsThroughTheRuntimeTests : IAsyncDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("actors-grains-").FullName;
    private readonly ManualClock _time = new(new DateTimeOffset(2026, 11, 22, 9, 0, 0, TimeSpan.Zero));

    private readonly List<IHost> _silos = [];

    private async Task<IGrainFactory> SiloAsync() => (await ServicesAsync()).GetRequiredService<IGrainFactory>();

    /// <summary>A new silo on the shared file with the job grain's real side tables (a second call
    /// is a second silo reading what the first one wrote).</summary>
    private Task<IServiceProvider> ServicesAsync(params Actors.Fleet.Providers.IInstanceProvider[] providers) => ServicesAsync(loseSettlements: false, providers);

    private async Task<IServiceProvider> ServicesAsync(bool loseSettlements, params Actors.Fleet.Providers.IInstanceProvider[] providers)
    {
        var store = ClusterStore.Sqlite(Path.Combine(_dir, "grains.db"), _time);
        var host = await GrainsSilo.StartAsync(Path.Combine(_dir, "grains.db"), services => services
            .AddSingleton<TimeProvider>(_time)
            .AddSingleton(store.Queue).AddSingleton(store.Sql)
            .AddSingleton(new Actors.Fleet.Providers.InstanceProviders(providers)).AddSingleton<InstanceDirectory>()
            .AddSingleton(new Fleet.PoolOptions { TickSeconds = 5 })
            .AddActorsStores().AddSingleton<ResultCache>()
            .AddSingleton<QueueSignal>().AddSingleton<JobServices>()
            .AddSingleton<Actors.Grains.Billing.JobSettlement>(sp => loseSettlements
                ? new LostSettlement(sp.GetRequiredService<IGrainFactory>())
                : new Actors.Grains.Billing.JobSettlement(sp.GetRequiredService<IGrainFactory>(), sp.GetRequiredService<Microsoft.Extensions.Logging.ILogger<Actors.Grains.Billing.JobSettlement>>()))
            .AddSingleton(TestBilling.Options())
            .AddSingleton(sp => new BlobStore(new FileObjectStore(Path.Combine(_dir, "blobs")), store.Sql, _time))
            .AddSingleton(new Cluster.RetentionPolicy(TimeSpan.FromMinutes(10), TimeSpan.FromHours(1), ErasureJobsPerPass: 2)));
        _silos.Add(host);
        return host.Services;
    }

    private static JobRequest Request(string tenant = "tenant-a", long seed = 1) =>
        new() { TenantId = tenant, Model = "segmentation", ModelVersion = "1.0.0", Tier = 2, InputRef = new string('a', 64), Parameters = new() { Seed = seed } };

    [Fact]
    public async Task AnInstanceAccruesCostAcrossTurnsAndRejectsSkippingStates()
    {
        var instance = (await SiloAsync()).GetGrain<IInstanceGrain>("gpu-1");
        await instance.ConfigureAsync("RTX 4090", new HourlyRates(0m, 0.08m, 0.40m, 0.40m));
        await instance.TransitionAsync(InstanceState.Warm);
        _time.Advance(TimeSpan.FromHours(1));
        await instance.TransitionAsync(InstanceState.Hot);
        _time.Advance(TimeSpan.FromHours(2));

        await Assert.ThrowsAsync<InvalidTransitionException>(() => instance.TransitionAsync(InstanceState.Cold));
        var snapshot = await (await SiloAsync()).GetGrain<IInstanceGrain>("gpu-1").GetAsync();

        Assert.Equal(InstanceState.Hot, snapshot.State);
        Assert.Equal(0.08m + 0.80m, snapshot.AccruedUsd);
    }

    [Fact]
    public async Task AJobRunsRetriesAndFinishesOnce()
    {
        var job = (await SiloAsync()).GetGrain<IJobGrain>("job-1");
        await job.SubmitAsync(Request());
        await job.StartAsync("gpu-1", 1);
        await job.RequeueAsync("gpu-1 missed its heartbeats", 1);
        Assert.Equal(JobStatus.Queued, (await job.RequeueAsync("gpu-1 missed its heartbeats", 1)).Status); // repeated
        await job.StartAsync("gpu-2", 2);
        await Assert.ThrowsAsync<InvalidTransitionException>(() => job.SucceedAsync(1, new JobResult("stale", null, false))); // the first host, too late
        Assert.Equal((JobStatus.Running, 2), ((await job.RequeueAsync("late recovery of attempt 1", 1)).Status, 2)); // a late requeue of attempt 1 leaves attempt 2 running
        Assert.Equal(JobStatus.Running, (await job.GetAsync()).Status);
        var done = await job.SucceedAsync(2, new JobResult("sha256:abc", null, false));
        var again = await job.SucceedAsync(2, new JobResult("sha256:abc", null, false)); // a retried completion changes nothing

        Assert.Equal(JobStatus.Succeeded, done.Status);
        Assert.Equal(done, again);
        Assert.Equal(("gpu-2", 2), (done.InstanceId, done.Attempts));
        await Assert.ThrowsAsync<InvalidTransitionException>(job.CancelAsync);
        Assert.Equal(JobStatus.Succeeded, (await job.GetAsync()).Status);
    }

    [Fact]
    public async Task SubmittingQueuesOnceAndAnIdenticalRequestIsAnsweredFromTheCache()
    {
        var services = await ServicesAsync();
        var grains = services.GetRequiredService<IGrainFactory>();
        var queue = services.GetRequiredService<IJobQueue>();
        var first = await grains.GetGrain<IJobGrain>("job-a").SubmitAsync(Request());
        await grains.GetGrain<IJobGrain>("job-a").SubmitAsync(Request()); // a retried submit queues nothing more
        Assert.Equal(JobStatus.Queued, first.Status);
        var leases = await queue.ClaimAsync("segmentation", "host", 10, TimeSpan.FromMinutes(1));
        Assert.Equal("job-a", Assert.Single(leases).JobId);
        Assert.Equal(Request().CacheKey, leases[0].CacheKey);

        await grains.GetGrain<IJobGrain>("job-a").StartAsync("gpu-1", 1);
        var output = await services.GetRequiredService<BlobStore>().PutAsync("tenant-a", Actors.Grains.Stores.BlobClass.Output, "{\"ok\":true}"u8.ToArray(),
            "application/json", "job:job-a", _time.GetUtcNow().AddDays(1));
        var result = new JobResult(output.Hash, null, false, 12.5, "job-a");
        await services.GetRequiredService<ResultCache>().PutAsync(Request().CacheKey, "segmentation", "tenant-a", result, TimeSpan.FromDays(1));
        await grains.GetGrain<IJobGrain>("job-a").SucceedAsync(1, result);

        var hit = await grains.GetGrain<IJobGrain>("job-b").SubmitAsync(Request());
        var miss = await grains.GetGrain<IJobGrain>("job-c").SubmitAsync(Request(seed: 2)); // other parameters, other key

        Assert.Equal((JobStatus.Succeeded, true, result.OutputRef), (hit.Status, hit.Result!.CacheHit, hit.Result.OutputRef));
        Assert.Equal(JobStatus.Queued, miss.Status);
        await Assert.ThrowsAsync<InvalidTransitionException>(() => grains.GetGrain<IJobGrain>("job-c").EraseDataAsync("tenant:tenant-a", audit: true)); // unfinished: cancel first
        Assert.Equal("job-c", Assert.Single(await queue.ClaimAsync("segmentation", "host", 10, TimeSpan.FromMinutes(1))).JobId);
    }

    /// <summary>A tenant's erasure goes pass by pass (2 jobs a pass here), each resuming where the
    /// last stopped; it ends at the jobs that existed when it began (a minute's slack), so a
    /// tenant still submitting cannot keep it going, and it never touches another tenant.</summary>
    [Fact]
    public async Task ATenantsErasureGoesPassByPassAndLeavesJobsSubmittedAfterItBegan()
    {
        var grains = await SiloAsync();
        foreach (var (id, tenant, seed) in new[] { ("e-1", "tenant-e", 1), ("e-2", "tenant-e", 2), ("f-1", "tenant-f", 3), ("e-3", "tenant-e", 4) })
        {
            await grains.GetGrain<IJobGrain>(id).SubmitAsync(Request(tenant, seed));
            _time.Advance(TimeSpan.FromMilliseconds(10));
        }

        var housekeeping = grains.GetGrain<Cluster.IHousekeepingGrain>("cluster");
        var first = await housekeeping.EraseTenantAsync(Cluster.TenantErasure.Start("tenant-e"), "admin");
        Assert.Equal((false, 2), (first.Complete, first.Jobs));
        Assert.NotNull(first.Resume);

        _time.Advance(TimeSpan.FromMinutes(2)); // past the slack: this one is the tenant's new work
        await grains.GetGrain<IJobGrain>("e-late").SubmitAsync(Request("tenant-e", seed: 99));

        var last = await housekeeping.EraseTenantAsync(first, "admin");
        Assert.Equal((true, 3, null), (last.Complete, last.Jobs, last.Resume));
        async Task<(JobStatus, bool)> StateOf(string id)
        {
            var job = await grains.GetGrain<IJobGrain>(id).GetAsync();
            return (job.Status, job.DataErasedAt is not null);
        }

        foreach (var id in new[] { "e-1", "e-2", "e-3" })
        {
            Assert.Equal((JobStatus.Canceled, true), await StateOf(id)); // canceled first, then erased
        }

        Assert.Equal((JobStatus.Queued, false), await StateOf("e-late"));
        Assert.Equal((JobStatus.Queued, false), await StateOf("f-1"));
    }

    [Fact]
    public async Task AReminderDrivesHousekeepingThatExpiresJobsWaitingTooLongAndPurgesOldOnes()
    {
        var services = await ServicesAsync();
        var grains = services.GetRequiredService<IGrainFactory>();
        var housekeeping = grains.GetGrain<Cluster.IHousekeepingGrain>("cluster");
        await housekeeping.StartAsync(TimeSpan.FromMinutes(1));
        var registered = await services.GetRequiredService<IReminderTable>().ReadRows(housekeeping.GetGrainId());
        Assert.Equal(("sweep", TimeSpan.FromMinutes(1)), (registered.Reminders.Single().ReminderName, registered.Reminders.Single().Period));
        await grains.GetGrain<IJobGrain>("job-old").SubmitAsync(Request());
        _time.Advance(TimeSpan.FromSeconds(30));
        await grains.GetGrain<IJobGrain>("job-new").SubmitAsync(Request(seed: 9));

        // job-lost was stored as queued but its silo died before its queue row was written.
        await grains.GetGrain<IJobGrain>("job-lost").SubmitAsync(Request(seed: 5));
        var queue = services.GetRequiredService<IJobQueue>();
        Assert.True(await queue.RemoveAsync("job-lost"));
        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(0, (await housekeeping.SweepAsync()).Requeued); // changed too recently to tell
        _time.Advance(TimeSpan.FromSeconds(31));
        Assert.Equal(1, (await housekeeping.SweepAsync()).Requeued);
        Assert.NotNull(await queue.PositionAsync("job-lost"));
        Assert.Equal(0, (await housekeeping.SweepAsync()).Requeued); // once
        Assert.True(await queue.RemoveAsync("job-lost"));

        _time.Advance(TimeSpan.FromMinutes(10) - TimeSpan.FromSeconds(61)); // job-old has waited 10.5 min (limit 10), job-new 10
        await TickAsync(housekeeping, "sweep");
        Assert.Equal(JobStatus.Expired, (await grains.GetGrain<IJobGrain>("job-old").GetAsync()).Status);
        Assert.Equal(JobStatus.Queued, (await grains.GetGrain<IJobGrain>("job-new").GetAsync()).Status);

        _time.Advance(TimeSpan.FromHours(1.1)); // past retention: the expired job is purged
        await TickAsync(housekeeping, "sweep");
        Assert.Null((await grains.GetGrain<IJobGrain>("job-old").GetAsync()).Request);
        Assert.Equal(JobStatus.Expired, (await grains.GetGrain<IJobGrain>("job-new").GetAsync()).Status);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var silo in _silos)
        {
            await silo.StopAsync();
            silo.Dispose();
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    /// <summary>What Orleans' reminder service does when <paramref name="name"/> is due.</summary>
    private static Task TickAsync(IRemindable grain, string name) => grain.ReceiveReminder(name, new TickStatus(DateTime.UtcNow, TimeSpan.FromMinutes(1), DateTime.UtcNow));

    private sealed class ManualClock(DateTimeOffset start) : TimeProvider
    {
        private DateTimeOffset _now = start;

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }

    /// <summary>A silo that dies between a job's end and telling its tenant: the call never goes.</summary>
    private sealed class LostSettlement(IGrainFactory grains)
        : Actors.Grains.Billing.JobSettlement(grains, Microsoft.Extensions.Logging.Abstractions.NullLogger<Actors.Grains.Billing.JobSettlement>.Instance)
    {
        public override void Finished(string tenantId, JobSnapshot job)
        {
        }
    }
}
