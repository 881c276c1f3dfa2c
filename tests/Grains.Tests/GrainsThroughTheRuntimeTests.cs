using Actors.Grains.Instances;
using Actors.Grains.Jobs;
using Actors.Runtime;
using Actors.Runtime.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Actors.Grains.Tests;

/// <summary>The grains on the real runtime (SQLite file), with a clock the test moves.</summary>
public sealed class GrainsThroughTheRuntimeTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("actors-grains-").FullName;
    private readonly ManualClock _time = new(new DateTimeOffset(2026, 11, 22, 9, 0, 0, TimeSpan.Zero));

    private async Task<GrainRuntime> SiloAsync()
    {
        var storage = new SqliteGrainStorage(Path.Combine(_dir, "grains.db"));
        await storage.MigrateAsync();
        var services = new ServiceCollection().AddSingleton<TimeProvider>(_time).BuildServiceProvider();
        var registry = new GrainTypeRegistry().Add<IInstanceGrain, InstanceGrain>().Add<IJobGrain, JobGrain>();
        return new GrainRuntime(storage, registry, services);
    }

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
        await job.SubmitAsync("tenant-a", "segmentation", 2);
        await job.StartAsync("gpu-1", 1);
        await job.RequeueAsync("gpu-1 missed its heartbeats");
        await job.StartAsync("gpu-2", 2);
        var done = await job.SucceedAsync("sha256:abc");
        var again = await job.SucceedAsync("sha256:abc"); // a retried completion changes nothing

        Assert.Equal(JobStatus.Succeeded, done.Status);
        Assert.Equal(done, again);
        Assert.Equal(("gpu-2", 2), (done.InstanceId, done.Attempts));
        await Assert.ThrowsAsync<InvalidTransitionException>(job.CancelAsync);
        Assert.Equal(JobStatus.Succeeded, (await job.GetAsync()).Status);
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    private sealed class ManualClock(DateTimeOffset start) : TimeProvider
    {
        private DateTimeOffset _now = start;

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
