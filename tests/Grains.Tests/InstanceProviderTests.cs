using Actors.Fleet.Providers;
using Actors.Grains.Fleet;
using Actors.Grains.Instances;
using Actors.Grains.Jobs;
using Microsoft.Extensions.DependencyInjection;
using Actors.Storage.ReadModels;

namespace Actors.Grains.Tests;

/// <summary>Instance grains driving a provider (the simulated one, in the test's virtual time):
/// pending operations, measured times, retries, time-outs, lost instances; and the pool grain
/// carrying out its policy within the operator's limits.</summary>
public sealed partial class GrainsThroughTheRuntimeTests
{
    private static readonly SimulatedProviderOptions Reliable = new() { FailureRate = 0, UnavailableRate = 0, SpotPreemptionsPerHour = 0 };

    [Fact]
    public async Task ARentThatResumesWhenWarmSettlesThroughPollsWithMeasuredTimesAndWarmCost()
    {
        var provider = new SimulatedProvider(Reliable, _time);
        var instance = (await ServicesAsync(provider)).GetRequiredService<IGrainFactory>().GetGrain<IInstanceGrain>("i-001");

        var renting = await instance.RentAsync("rtx-a4000", "simulated", resumeWhenWarm: true, "test");
        Assert.Equal(("rent", InstanceState.Cold), (renting.Pending!.Operation, renting.State));
        Assert.Equal(new HourlyRates(0, 0.05m, 0.22m, 0.22m), renting.Rates);

        var rentedAt = provider.NextChange("i-001")!.Value;
        _time.Advance(rentedAt - _time.GetUtcNow() - TimeSpan.FromSeconds(1));
        Assert.Equal("rent", (await instance.PollAsync()).Pending!.Operation); // not yet

        _time.Advance(TimeSpan.FromSeconds(1));
        var warm = await instance.PollAsync();
        Assert.Equal((InstanceState.Warm, "resume"), (warm.State, warm.Pending!.Operation));
        var rentSeconds = warm.MeasuredSeconds["rent"];
        Assert.InRange(rentSeconds, 30 * 60, 60 * 60); // seed 003: rent + setup 30–60 min

        var resumedAt = provider.NextChange("i-001")!.Value;
        _time.Advance(resumedAt - _time.GetUtcNow());
        var hot = await instance.PollAsync();
        Assert.Equal(InstanceState.Hot, hot.State);
        Assert.Null(hot.Pending);
        var resumeSeconds = hot.MeasuredSeconds["resume"];
        Assert.InRange(resumeSeconds, 2.5 * 60, 6 * 60); // resume 2–5 min + model load 30–60 s
        Assert.Equal(Math.Round(0.05m * (decimal)resumeSeconds / 3600m, 6), hot.AccruedUsd); // WARM while resuming, nothing while renting
    }

    /// <summary>A provider that cannot stop (Lambda): the rent launches the machine straight to
    /// HOT (never WARM, no WARM rate), a stop is refused with what to do instead, and a release
    /// ends the running machine.</summary>
    [Fact]
    public async Task OnAProviderThatCannotStopAnInstanceIsNeverWarm()
    {
        var provider = new SimulatedProvider(Reliable with { CanStop = false }, _time);
        Assert.False(provider.Capabilities.CanStop);
        var instance = (await ServicesAsync(provider)).GetRequiredService<IGrainFactory>().GetGrain<IInstanceGrain>("i-001");

        var launching = await instance.RentAsync("rtx-a4000", "simulated", resumeWhenWarm: false, "test");
        Assert.Equal(("launch", InstanceState.Cold), (launching.Pending!.Operation, launching.State));
        Assert.Equal(new HourlyRates(0, 0.22m, 0.22m, 0.22m), launching.Rates); // no cheaper WARM rate: it bills as it runs

        _time.Advance(provider.NextChange("i-001")!.Value - _time.GetUtcNow());
        var hot = await instance.PollAsync();
        Assert.Equal((InstanceState.Hot, (PendingOperation?)null), (hot.State, hot.Pending));
        Assert.False(hot.TimeInState.ContainsKey(InstanceState.Warm) && hot.TimeInState[InstanceState.Warm] > TimeSpan.Zero);
        Assert.DoesNotContain(InstanceState.Warm, hot.TimeInState.Keys);

        var refused = await Assert.ThrowsAsync<ProviderException>(() => instance.StopAsync("scale in"));
        Assert.Equal("not_supported", refused.Code);
        Assert.Contains("release it instead", refused.Message, StringComparison.Ordinal);

        var releasing = await instance.ReleaseAsync("scale in");
        Assert.Equal(("release", InstanceState.Hot), (releasing.Pending!.Operation, releasing.State));
        _time.Advance(provider.NextChange("i-001")!.Value - _time.GetUtcNow());
        var cold = await instance.PollAsync();
        Assert.Equal((InstanceState.Cold, (PendingOperation?)null), (cold.State, cold.Pending));
        Assert.DoesNotContain(InstanceState.Warm, cold.TimeInState.Keys);
        Assert.Equal(Math.Round(0.22m * (decimal)cold.TimeInState[InstanceState.Hot].TotalSeconds / 3600m, 6), cold.AccruedUsd);
    }

    [Fact]
    public async Task AFailingOperationIsTriedThreeTimesThenGivenUpAndMarkedDegraded()
    {
        var provider = new SimulatedProvider(Reliable with { FailureRate = 1 }, _time);
        var instance = (await ServicesAsync(provider)).GetRequiredService<IGrainFactory>().GetGrain<IInstanceGrain>("i-001");
        await instance.RentAsync("rtx-4090", "simulated", resumeWhenWarm: false, "test");

        var attempts = new List<int>();
        InstanceSnapshot snapshot;
        do
        {
            _time.Advance(TimeSpan.FromHours(1.01));
            snapshot = await instance.PollAsync();
            attempts.Add(snapshot.Pending?.Attempt ?? 0);
        }
        while (snapshot.Pending is not null && attempts.Count < 10);

        Assert.Equal([2, 3, 0], attempts);
        Assert.Equal((InstanceState.Cold, InstanceHealth.Degraded), (snapshot.State, snapshot.Health));
        Assert.StartsWith("rent failed after 3 tries", snapshot.LastError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ARentPastTwiceItsEtaIsGivenBackAndAPreemptedInstanceIsDownAndCold()
    {
        var stuck = new StuckProvider(_time);
        var provider = new SimulatedProvider(Reliable, _time);
        var services = await ServicesAsync(stuck, provider);
        var runtime = services.GetRequiredService<IGrainFactory>();

        var late = runtime.GetGrain<IInstanceGrain>("i-late");
        await late.RentAsync("stuck-gpu", "stuck", resumeWhenWarm: true, "test");
        _time.Advance(TimeSpan.FromMinutes(20)); // ETA 10 min: not yet past 2 × 10 min + 30 s
        Assert.Equal("rent", (await late.PollAsync()).Pending!.Operation);
        _time.Advance(TimeSpan.FromSeconds(31));
        var given = await late.PollAsync();
        Assert.Equal("release", given.Pending!.Operation);
        Assert.Contains("rent timed out", given.LastError, StringComparison.Ordinal);
        Assert.Equal(["i-late"], stuck.Released);

        var managed = new SimulatedProvider(Reliable with { SpotPreemptionsPerHour = 1000 }, _time);
        var preempting = (await ServicesAsync(managed)).GetRequiredService<IGrainFactory>().GetGrain<IInstanceGrain>("i-spot2");
        await preempting.RentAsync("rtx-4090-spot", "simulated", resumeWhenWarm: true, "test");
        for (var i = 0; i < 40 && (await preempting.GetAsync()).Health != InstanceHealth.Down; i++)
        {
            _time.Advance(TimeSpan.FromMinutes(10));
            await preempting.PollAsync();
        }

        var gone = await preempting.GetAsync();
        Assert.Equal((InstanceState.Cold, InstanceHealth.Down), (gone.State, gone.Health));
        Assert.Contains("preempt", gone.HealthReason, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task ThePoolRentsToMinHotThroughItsProviderAndABudgetCapStopsItWithAnAlert()
    {
        var provider = new SimulatedProvider(Reliable, _time);
        var services = await ServicesAsync(provider);
        var pool = services.GetRequiredService<IGrainFactory>().GetGrain<IPoolGrain>(PoolGrain.Key);

        await pool.ConfigureAsync(new PoolSettings(true, "seed", MinHot: 1, MaxInstances: 4, DailyBudgetUsd: 0.01m, "rtx-a4000", "simulated"));
        var capped = await pool.TickAsync();
        Assert.Contains(capped.Alerts, a => a.Kind == "budget_cap");
        Assert.DoesNotContain(capped.Recent, e => e.Kind == "rent");

        await pool.ConfigureAsync(capped.Settings with { DailyBudgetUsd = null });
        var rented = await pool.TickAsync();
        var rent = Assert.Single(rented.Recent, e => e.Kind == "rent");
        Assert.Equal(("i-001", null), (rent.InstanceId, rent.Error));
        await pool.TickAsync(); // in flight: not rented again
        Assert.Single((await pool.GetAsync()).Recent, e => e.Kind == "rent");

        for (var i = 0; i < 30 && (await services.GetRequiredService<IGrainFactory>().GetGrain<IInstanceGrain>("i-001").GetAsync()).State != InstanceState.Hot; i++)
        {
            _time.Advance(TimeSpan.FromMinutes(5));
            await pool.TickAsync();
        }

        var hot = await services.GetRequiredService<IGrainFactory>().GetGrain<IInstanceGrain>("i-001").GetAsync();
        Assert.Equal(InstanceState.Hot, hot.State);
        Assert.Equal(0.22m, (await pool.TickAsync()).CurrentPerHour);
        Assert.Single((await pool.GetAsync()).Recent, e => e.Kind == "rent");
    }

    [Fact]
    public async Task ARentGoesToTheFirstOfferWithinItsPriceAndThePoolsMaxAndNoCapacityBacksAProviderOff()
    {
        var services = await ServicesAsync(new SimulatedProvider(Reliable, _time));
        var pool = services.GetRequiredService<IGrainFactory>().GetGrain<IPoolGrain>(PoolGrain.Key);
        var offers = new PoolSettings(true, "seed", MinHot: 1, MaxInstances: 4, DailyBudgetUsd: null, "rtx-a4000", "simulated")
        {
            Offers = [new PoolOffer("simulated", "rtx-4090", MaxPerHour: 0.30m), new PoolOffer("simulated", "rtx-a4000")],
            MaxPerHourUsd = 0.20m,
        };

        // Both lines over something: the 4090 over its line's max, the A4000 over the pool's max $/h.
        await pool.ConfigureAsync(offers);
        var none = await pool.TickAsync();
        var refused = Assert.Single(none.Recent, e => e.Kind == "rent");
        Assert.Contains("over the line's max $0.30/h", refused.Error, StringComparison.Ordinal);
        Assert.Contains("over its max $0.20/h", refused.Error, StringComparison.Ordinal);
        Assert.Equal(InstanceState.Cold, (await services.GetRequiredService<IGrainFactory>().GetGrain<IInstanceGrain>("i-001").GetAsync()).State);

        // Room for one A4000: the rent falls past the 4090 line to it, and says why.
        await pool.ConfigureAsync(offers with { MaxPerHourUsd = 0.25m });
        _time.Advance(TimeSpan.FromMinutes(2));
        var rented = await pool.TickAsync();
        var rent = Assert.Single(rented.Recent, e => e.Kind == "rent" && e.Error is null);
        Assert.Contains("via simulated/rtx-a4000 at $0.22/h (fallback after: simulated/rtx-4090 ≤ $0.30/h: $0.33/h is over the line's max", rent.Reason, StringComparison.Ordinal);
        var instance = await services.GetRequiredService<IGrainFactory>().GetGrain<IInstanceGrain>(rent.InstanceId!).GetAsync();
        Assert.Equal(("rtx-a4000", "simulated"), (instance.GpuType, instance.Provider));
    }

    [Fact]
    public async Task AProviderWithNoCapacityIsBackedOffAndSkippedUntilItsBackOffEnds()
    {
        var services = await ServicesAsync(new SimulatedProvider(Reliable with { UnavailableRate = 1 }, _time));
        var pool = services.GetRequiredService<IGrainFactory>().GetGrain<IPoolGrain>(PoolGrain.Key);
        await pool.ConfigureAsync(new PoolSettings(true, "seed", MinHot: 1, MaxInstances: 4, DailyBudgetUsd: null, "rtx-a4000", "simulated")
        {
            Offers = [new PoolOffer("simulated", "rtx-a4000")],
        });

        var first = await pool.TickAsync();
        Assert.Contains(first.Recent, e => e.Kind == "offer" && e.Reason.Contains("could not rent (unavailable)", StringComparison.Ordinal));
        Assert.True(first.BackingOff.ContainsKey("simulated"));

        _time.Advance(TimeSpan.FromSeconds(31)); // past the pool's own rent back-off, not the provider's (30 s, then 60 s)
        var second = await pool.TickAsync();
        Assert.Contains(second.Recent, e => e.Kind == "rent" && e.Error is { } error && error.Contains("backing off", StringComparison.Ordinal) is false
            && error.Contains("unavailable", StringComparison.Ordinal));
        _time.Advance(TimeSpan.FromSeconds(31));
        var third = await pool.TickAsync();
        Assert.Contains(third.Recent, e => e.Kind == "rent" && e.Error is { } error && error.Contains("backing off until", StringComparison.Ordinal));
    }

    [Fact]
    public async Task UnderTheForecastPolicyThePoolLearnsHourByHourAndShowsItsForecast()
    {
        var services = await ServicesAsync(new SimulatedProvider(Reliable, _time));
        var pool = services.GetRequiredService<IGrainFactory>().GetGrain<IPoolGrain>(PoolGrain.Key);
        await pool.ConfigureAsync(new PoolSettings(true, "slo", MinHot: 0, MaxInstances: 4, DailyBudgetUsd: null, "rtx-a4000", "simulated"));
        Assert.Null((await pool.TickAsync()).Forecast); // another policy: nothing to show

        await pool.ConfigureAsync(new PoolSettings(true, "forecast", MinHot: 0, MaxInstances: 4, DailyBudgetUsd: null, "rtx-a4000", "simulated"));
        var first = (await pool.TickAsync()).Forecast;
        Assert.NotNull(first);
        Assert.False(first.KnowsDay);
        Assert.Equal(24, first.NextHoursJobsPerHour.Count);
        Assert.All(first.NextHoursJobsPerHour, Assert.Null); // no hour learned yet
        Assert.Empty(first.QuietHoursUtc);

        // An hour of ticks later, the hour just ended is learned (no jobs: 0 jobs/h), and the view survives a reload.
        for (var i = 0; i < 13; i++)
        {
            _time.Advance(TimeSpan.FromMinutes(5));
            await pool.TickAsync();
        }

        var learned = (await pool.GetAsync()).Forecast!;
        Assert.Contains(0.0, learned.NextHoursJobsPerHour.Where(r => r is not null).Select(r => r!.Value));
        Assert.False(learned.KnowsDay);
    }

    [Fact]
    public async Task TheForecastPolicysFirstTickStartsItsProfileFromTheJobsTable()
    {
        var services = await ServicesAsync(new SimulatedProvider(Reliable, _time));
        var sql = services.GetRequiredService<Actors.Storage.Sql.SqlStore>();
        // Yesterday and the day before: 30 jobs an hour at 10:00, 3 at every other hour.
        var today = new DateTimeOffset(_time.GetUtcNow().UtcDateTime.Date, TimeSpan.Zero);
        var n = 0;
        for (var at = today.AddDays(-2); at < today; at = at.AddHours(1))
        {
            for (var i = 0; i < (at.Hour == 10 ? 30 : 3); i++)
            {
                await Actors.Storage.Tests.ReadModels.JobRows.UpsertAsync(sql, new JobSnapshot { JobId = $"hist-{n++}", Status = JobStatus.Succeeded, Request = Request(seed: n) }, at.AddMinutes(i));
            }
        }

        var pool = services.GetRequiredService<IGrainFactory>().GetGrain<IPoolGrain>(PoolGrain.Key);
        await pool.ConfigureAsync(new PoolSettings(true, "forecast", MinHot: 0, MaxInstances: 4, DailyBudgetUsd: null, "rtx-a4000", "simulated"));
        var forecast = (await pool.TickAsync()).Forecast!;
        Assert.True(forecast.KnowsDay, string.Join(",", forecast.NextHoursJobsPerHour));
        var tenOClock = (10 - _time.GetUtcNow().UtcDateTime.Hour + 24) % 24;
        Assert.Equal(30, forecast.NextHoursJobsPerHour[tenOClock]);
        Assert.Equal(3, forecast.NextHoursJobsPerHour[(tenOClock + 5) % 24]);
    }

    [Fact]
    public async Task FreeJobsWaitingOverSixtySecondsMakeThePoolRefuseTheFreeTierForAWhile()
    {
        var services = await ServicesAsync(new SimulatedProvider(Reliable, _time));
        var pool = services.GetRequiredService<IGrainFactory>().GetGrain<IPoolGrain>(PoolGrain.Key);
        await pool.ConfigureAsync(new PoolSettings(true, "seed", MinHot: 0, MaxInstances: 4, DailyBudgetUsd: null, "rtx-a4000", "simulated"));
        await services.GetRequiredService<Actors.Storage.Queue.IJobQueue>().EnqueueAsync(new Actors.Storage.Queue.QueuedJob("job-free", "segmentation", (int)Actors.Grains.Tenants.Tier.Free));

        _time.Advance(TimeSpan.FromSeconds(60));
        Assert.False((await pool.TickAsync()).Refusing(Actors.Grains.Tenants.Tier.Free, _time.GetUtcNow())); // at 60 s: not yet
        _time.Advance(TimeSpan.FromSeconds(1));
        var busy = await pool.TickAsync();
        Assert.True(busy.Refusing(Actors.Grains.Tenants.Tier.Free, _time.GetUtcNow()));
        Assert.False(busy.Refusing(Actors.Grains.Tenants.Tier.Pro, _time.GetUtcNow()));
        Assert.Contains(busy.Recent, e => e.Kind == "refuse" && e.Reason.Contains("server busy", StringComparison.Ordinal));

        await services.GetRequiredService<Actors.Storage.Queue.IJobQueue>().RemoveAsync("job-free");
        _time.Advance(TimeSpan.FromSeconds(16)); // past the refusal's few ticks, nothing waiting
        Assert.False((await pool.TickAsync()).Refusing(Actors.Grains.Tenants.Tier.Free, _time.GetUtcNow()));
    }

    [Fact]
    public async Task ThePoolMeasuresServiceTimeFromServingSecondsPerJobRunAndShowsIt()
    {
        var services = await ServicesAsync(new SimulatedProvider(Reliable, _time));
        var runtime = services.GetRequiredService<IGrainFactory>();
        var pool = runtime.GetGrain<IPoolGrain>(PoolGrain.Key);
        var sql = services.GetRequiredService<Actors.Storage.Sql.SqlStore>();
        var host = runtime.GetGrain<IInstanceGrain>("gpu-1");
        await pool.ConfigureAsync(new PoolSettings(false, "slo", MinHot: 0, MaxInstances: 4, DailyBudgetUsd: null, "rtx-a4000", "simulated"));
        await host.HostReadyAsync("silo-1", ["segmentation"]);
        Assert.Equal((0.5, 0L), ((await pool.TickAsync()).ServiceSecondsPerJob, 0L)); // the configured value until measured

        async Task ServeAsync(double seconds, int jobs, int cacheHits = 0)
        {
            await host.ReportBusyAsync("silo-1", busy: true);
            _time.Advance(TimeSpan.FromSeconds(seconds));
            await host.ReportBusyAsync("silo-1", busy: false);
            for (var i = 0; i < jobs + cacheHits; i++)
            {
                var ran = i < jobs;
                await Actors.Storage.Tests.ReadModels.JobRows.UpsertAsync(sql, new JobSnapshot
                {
                    JobId = $"job-{Guid.NewGuid():N}", Status = JobStatus.Succeeded, Request = Request(seed: i),
                    Result = new JobResult("out", null, CacheHit: !ran, RunMs: ran ? 900 : 0),
                }, _time.GetUtcNow());
            }

            _time.Advance(TimeSpan.FromSeconds(1)); // idle HOT: not service time
        }

        await ServeAsync(12, jobs: 10, cacheHits: 30); // cache hits are not service; 10 jobs are too few to judge
        var few = await pool.TickAsync();
        Assert.Equal((0.5, 0L), (few.ServiceSecondsPerJob, few.ServiceMeasuredJobs));

        await ServeAsync(18, jobs: 15);
        var measured = await pool.TickAsync();
        Assert.Equal(25, measured.ServiceMeasuredJobs);
        Assert.Equal(30.0 / 25, measured.ServiceSecondsPerJob, 6); // 30 s SERVING over 25 jobs that ran

        await ServeAsync(60, jobs: 20); // slower now (3 s a job): smoothed, not jumped to
        var slower = await pool.TickAsync();
        Assert.Equal(1.2 + 0.3 * (3 - 1.2), slower.ServiceSecondsPerJob, 6);
        Assert.Equal(45, slower.ServiceMeasuredJobs);
    }

    /// <summary>A provider whose rents never finish (a cloud API that hangs).</summary>
    private sealed class StuckProvider(TimeProvider time) : IInstanceProvider
    {
        public List<string> Released { get; } = [];

        public string Name => "stuck";

        public IReadOnlyList<GpuOffer> PriceList => [new("stuck-gpu", 0.5m, 0.1m, false)];

        public ProviderCapabilities Capabilities { get; } = ProviderCapabilities.Stoppable(TimeSpan.FromSeconds(1));

        public Task<ProviderTicket> RentAsync(string instanceId, string gpuType, CancellationToken cancellationToken = default) =>
            Task.FromResult(new ProviderTicket(instanceId, ProviderOperation.Rent, time.GetUtcNow(), TimeSpan.FromMinutes(10)));

        public Task<ProviderTicket> ResumeAsync(string instanceId, CancellationToken cancellationToken = default) => throw new ProviderException("invalid_state", "not rented");

        public Task<ProviderTicket> StopAsync(string instanceId, CancellationToken cancellationToken = default) => throw new ProviderException("invalid_state", "not rented");

        public Task<ProviderTicket> ReleaseAsync(string instanceId, CancellationToken cancellationToken = default)
        {
            Released.Add(instanceId);
            return Task.FromResult(new ProviderTicket(instanceId, ProviderOperation.Release, time.GetUtcNow(), TimeSpan.FromMinutes(1)));
        }

        public Task<ProviderStatus> StatusAsync(string instanceId, CancellationToken cancellationToken = default) =>
            Task.FromResult(new ProviderStatus(instanceId, Released.Contains(instanceId) ? ProviderPhase.Releasing : ProviderPhase.Renting, InstanceState.Cold, time.GetUtcNow()));
    }
}
