using Actors.Fleet.Policies;
using Actors.Fleet.Providers;
using Actors.Fleet.Simulation;
using Actors.Grains.Instances;
using Actors.Grains.Tenants;

namespace Actors.Fleet.Tests;

public sealed class SimulationTests
{
    private static readonly TraceOptions TwoDays = TraceOptions.Standard with { Days = 2 };

    [Fact]
    public void TraceHasTheMeanRateThePeakAndTheMix()
    {
        var trace = Trace.Generate(TraceOptions.Standard with { Days = 10, BurstsPerDay = 0 });
        var perHour = trace.Count / (10 * 24.0);
        Assert.InRange(perHour, 250 * 0.97, 250 * 1.03);
        var byHour = trace.GroupBy(a => (int)(a.AtSeconds / 3600 % 24)).ToDictionary(g => g.Key, g => g.Count() / 10.0);
        Assert.InRange(byHour[14] / perHour, 3.4, 4.2); // the 14:00 hour averages a bit under the 4× peak
        Assert.True(byHour[2] < perHour / 2);
        Assert.InRange(trace.Count(a => a.Tier == Tier.Free) / (double)trace.Count, 0.48, 0.52);
        Assert.True(trace.Zip(trace.Skip(1)).All(p => p.First.AtSeconds <= p.Second.AtSeconds));
    }

    [Fact]
    public void TraceCsvRoundTripsAndRejectsBadLines()
    {
        var trace = Trace.Generate(TraceOptions.Standard with { Days = 0.1 });
        using var writer = new StringWriter();
        Trace.WriteCsv(trace, writer);
        var back = Trace.ReadCsv(new StringReader(writer.ToString()));
        Assert.Equal(trace.Count, back.Count);
        Assert.Equal(trace.Select(a => a.Tier), back.Select(a => a.Tier));
        Assert.Throws<FormatException>(() => Trace.ReadCsv(new StringReader("seconds,tier\n1,gold\n")));
        Assert.Throws<FormatException>(() => Trace.ReadCsv(new StringReader("seconds,tier\n1,pro\nx,pro\n")));
        Assert.Throws<FormatException>(() => Trace.ReadCsv(new StringReader("seconds,tier\n-5,pro\n")));
    }

    /// <summary>On a provider that cannot stop (Lambda), the same policy runs without a WARM
    /// minute: scale-ins release, no standby is kept, every rent comes up running; every job is
    /// still served or accounted for, and the cost is the running hours at the running rate.</summary>
    [Fact]
    public void OnAProviderThatCannotStopTheFleetIsNeverWarmAndEveryJobIsAccounted()
    {
        var trace = Trace.Generate(TwoDays);
        var options = new SimulationOptions { Provider = new SimulatedProviderOptions { CanStop = false } };
        foreach (var policy in new[] { "seed", "slo" })
        {
            var result = Simulator.Run(trace, PoolPolicies.Create(policy)!, options);
            var h = result.InstanceHours;
            Assert.Equal((0.0, 0.0), (h.GetValueOrDefault("warm"), h.GetValueOrDefault("renting")));
            Assert.All(result.Timeline, s => Assert.Equal((0, 0), (s.Warm, s.Renting)));
            Assert.True(h.GetValueOrDefault("starting") > 0, policy); // it did scale out: machines came up
            foreach (var tier in result.Tiers)
            {
                Assert.InRange(tier.Served + tier.Refused + tier.Expired, tier.Arrived - 5, tier.Arrived);
            }

            var expected = 0.40 * (h.GetValueOrDefault("hot") + h.GetValueOrDefault("serving") + h.GetValueOrDefault("starting"));
            Assert.Equal(expected, (double)result.TotalCostUsd, 0);
        }
    }

    [Fact]
    public void SimulationIsDeterministicAndAccountsForEveryJob()
    {
        var trace = Trace.Generate(TwoDays);
        var a = Simulator.Run(trace, new LimitedPolicy(new SeedPolicy()), new SimulationOptions());
        var b = Simulator.Run(trace, new LimitedPolicy(new SeedPolicy()), new SimulationOptions());
        Assert.Equal(a.TotalCostUsd, b.TotalCostUsd);
        Assert.Equal(a.Tiers, b.Tiers);
        foreach (var tier in a.Tiers)
        {
            var accounted = tier.Served + tier.Refused + tier.Expired;
            Assert.InRange(accounted, tier.Arrived - 5, tier.Arrived); // at most a few still queued at the end
        }

        // Cost is the instance-hours at their rates (spot RTX 4090: $0.40 HOT, $0.08 WARM and renting).
        var h = a.InstanceHours;
        var expected = 0.40 * (h.GetValueOrDefault("hot") + h.GetValueOrDefault("serving") + h.GetValueOrDefault("starting"))
            + 0.08 * (h.GetValueOrDefault("warm") + h.GetValueOrDefault("renting"));
        Assert.Equal(expected, (double)a.TotalCostUsd, 0);
        Assert.True(a.Timeline.Count >= 2 * 24 * 6);
    }

    [Theory]
    [InlineData("seed")]
    [InlineData("slo")]
    public void TheDailyBudgetIsNeverExceeded(string name)
    {
        IPoolPolicy inner = name == "seed" ? new SeedPolicy() : new SloPolicy();
        var options = new SimulationOptions { Limits = new PoolLimits { DailyBudgetUsd = 11m, MaxInstances = 6 } };
        var capped = Simulator.Run(Trace.Generate(TwoDays), new LimitedPolicy(inner), options);
        Assert.True(capped.MaxDailySpendUsd <= 11m, $"{name}: spent {capped.MaxDailySpendUsd} in a day");
        Assert.True(capped.Actions.GetValueOrDefault("alert:budget_cap") > 0);
        var free = Simulator.Run(Trace.Generate(TwoDays), new LimitedPolicy(inner), options with { Limits = new PoolLimits { MaxInstances = 6 } });
        Assert.True(free.MaxDailySpendUsd > 11m, "without the cap the same trace spends more (else the test proves nothing)");
    }

    [Fact]
    public void MaxInstancesIsNeverExceeded()
    {
        var trace = Trace.Generate(TwoDays with { MeanPerHour = 1500 });
        var result = Simulator.Run(trace, new LimitedPolicy(new SloPolicy()), new SimulationOptions { Limits = new PoolLimits { MaxInstances = 3 } });
        Assert.True(result.MaxInstances <= 3);
        Assert.True(result.Actions.GetValueOrDefault("alert:max_instances") > 0);
    }

    [Fact]
    public void SloPolicyMeetsItsTargetsOnTwoDays()
    {
        var result = Simulator.Run(Trace.Generate(TwoDays), new LimitedPolicy(new SloPolicy()), new SimulationOptions());
        Assert.True(result.Tier(Tier.Pro).P95Seconds <= 30, $"Pro p95 {result.Tier(Tier.Pro).P95Seconds}");
        Assert.True(result.Tier(Tier.Premium).P95Seconds <= 120, $"Premium p95 {result.Tier(Tier.Premium).P95Seconds}");
    }

    [Fact]
    public void GpuByLoadRentsTheSeedsGpuForTheLoadAndItsFasterServiceShows()
    {
        var trace = Trace.Generate(TwoDays); // 250 jobs/h: seed 000 picks the RTX A6000 (100–500/h)
        var plain = Simulator.Run(trace, PoolPolicies.Create("slo")!, new SimulationOptions());
        var byLoad = Simulator.Run(trace, PoolPolicies.Create("slo-by-load")!, new SimulationOptions());

        Assert.Equal("slo-by-load", byLoad.Policy);
        Assert.True(plain.Actions.GetValueOrDefault("rented:rtx-4090-spot") > 0);
        Assert.DoesNotContain(plain.Actions.Keys, k => k == "rented:rtx-a6000");
        Assert.True(byLoad.Actions.GetValueOrDefault("rented:rtx-a6000") > 0, string.Join(", ", byLoad.Actions.Keys));
        Assert.DoesNotContain(byLoad.Actions.Keys, k => k == "rented:rtx-4090-spot");
        // An A6000 runs seed 000's 2,880 jobs/h against the 4090's 1,728: the same jobs take fewer SERVING hours.
        Assert.True(byLoad.InstanceHours["serving"] < plain.InstanceHours["serving"],
            $"serving hours {byLoad.InstanceHours["serving"]:0.0} vs {plain.InstanceHours["serving"]:0.0}");
        Assert.Null(PoolPolicies.Create("magic"));
    }

    [Fact]
    public void SvgChartHasBothPanelsPerPolicy()
    {
        var result = Simulator.Run(Trace.Generate(TraceOptions.Standard with { Days = 1 }), new LimitedPolicy(new SeedPolicy()), new SimulationOptions());
        var svg = TimelineChart.Render([result]);
        Assert.StartsWith("<svg", svg, StringComparison.Ordinal);
        Assert.Contains("seed: queue depth", svg, StringComparison.Ordinal);
        Assert.Contains("instances by state", svg, StringComparison.Ordinal);
        Assert.Equal(5, svg.Split("<polygon").Length - 1);
        System.Xml.Linq.XDocument.Parse(svg); // well-formed
    }
}

public sealed class SimulatedProviderTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task OperationsTakeTheirTimeThenSettle()
    {
        var clock = new VirtualClock(T0);
        var provider = new SimulatedProvider(new SimulatedProviderOptions { FailureRate = 0, UnavailableRate = 0 }, clock);
        var ticket = await provider.RentAsync("i1", "rtx-a4000");
        Assert.InRange(ticket.Eta, TimeSpan.FromMinutes(30), TimeSpan.FromMinutes(60));
        Assert.Equal(ProviderPhase.Renting, (await provider.StatusAsync("i1")).Phase);
        await Assert.ThrowsAsync<ProviderException>(() => provider.ResumeAsync("i1"));
        clock.MoveTo(ticket.ExpectedAt);
        var status = await provider.StatusAsync("i1");
        Assert.Equal((ProviderPhase.Warm, InstanceState.Warm), (status.Phase, status.Settled));

        ticket = await provider.ResumeAsync("i1");
        Assert.InRange(ticket.Eta, TimeSpan.FromMinutes(2.5), TimeSpan.FromMinutes(6));
        clock.MoveTo(ticket.ExpectedAt);
        Assert.True((await provider.StatusAsync("i1")).Running);
        clock.MoveTo((await provider.StopAsync("i1")).ExpectedAt);
        clock.MoveTo((await provider.ReleaseAsync("i1")).ExpectedAt);
        Assert.Equal(ProviderPhase.Cold, (await provider.StatusAsync("i1")).Phase);
        var unknown = await Assert.ThrowsAsync<ProviderException>(() => provider.RentAsync("i2", "h100"));
        Assert.Equal("unknown_gpu", unknown.Code);
    }

    [Fact]
    public async Task FailuresUnavailabilityAndPreemptionAreReported()
    {
        var clock = new VirtualClock(T0);
        var none = new SimulatedProvider(new SimulatedProviderOptions { UnavailableRate = 1 }, clock);
        Assert.Equal("unavailable", (await Assert.ThrowsAsync<ProviderException>(() => none.RentAsync("i1", "rtx-4090-spot"))).Code);

        var failing = new SimulatedProvider(new SimulatedProviderOptions { UnavailableRate = 0, FailureRate = 1 }, clock);
        failing.ForceSettled("i1", "rtx-4090-spot", InstanceState.Warm);
        clock.MoveTo((await failing.ResumeAsync("i1")).ExpectedAt);
        var failed = await failing.StatusAsync("i1");
        Assert.Equal((ProviderPhase.Failed, InstanceState.Warm), (failed.Phase, failed.Settled));
        Assert.NotNull(failed.Error);

        var spot = new SimulatedProvider(new SimulatedProviderOptions { SpotPreemptionsPerHour = 10 }, clock);
        spot.ForceSettled("s1", "rtx-4090-spot", InstanceState.Hot);
        var at = spot.NextChange("s1")!.Value;
        clock.MoveTo(at);
        var preempted = await spot.StatusAsync("s1");
        Assert.Equal((ProviderPhase.Preempted, InstanceState.Cold), (preempted.Phase, preempted.Settled));
    }
}
