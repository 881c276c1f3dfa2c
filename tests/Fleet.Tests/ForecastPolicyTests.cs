using Actors.Fleet.Policies;
using Actors.Fleet.Simulation;
using Actors.Grains.Instances;
using Actors.Grains.Tenants;
using static Actors.Fleet.Tests.Snapshots;

namespace Actors.Fleet.Tests;

public sealed class ForecastPolicyTests
{
    /// <summary>Quiet from 00:00 to 06:00 (0.001 jobs/s), busy otherwise (0.1 jobs/s), peak 13:00–15:00 (0.5 jobs/s).</summary>
    private static double RateAtHour(int hour) => hour < 6 ? 0.001 : hour is 13 or 14 ? 0.5 : 0.1;

    private static DemandProfile LearnedDay() => new()
    {
        ByDayHour = Enumerable.Range(0, 24).Select(RateAtHour).ToArray(),
        TierShare = [0.5, 0.3, 0.15, 0.05],
    };

    private static PoolSnapshot At(int hour, int minute, IEnumerable<InstanceView> instances, Dictionary<Tier, TierQueue>? queues = null, DateTimeOffset? lastArrival = null, DemandProfile? profile = null)
    {
        var now = new DateTimeOffset(2026, 3, 2, hour, minute, 0, TimeSpan.Zero);
        return Of(instances.Select(i => i with { Since = now.AddHours(-1) }), queues, new PoolMemory { PrimaryId = "p", Profile = profile ?? LearnedDay() }, now: now)
            with { LastArrivalAt = lastArrival };
    }

    [Fact]
    public void TheProfileLearnsEachHourAndFindsTheQuietHours()
    {
        var profile = new DemandProfile();
        var start = new DateTimeOffset(2026, 3, 2, 0, 0, 0, TimeSpan.Zero);
        for (var tick = 0; tick <= 24 * 240; tick++) // a day of 15-second ticks, and the first of the next
        {
            var now = start.AddSeconds(15 * tick);
            var rate = RateAtHour(now.UtcDateTime.Hour);
            profile = profile.Learn(now, new Dictionary<Tier, double> { [Tier.Free] = rate * 0.5, [Tier.Premium] = rate * 0.3, [Tier.Pro] = rate * 0.15, [Tier.Enterprise] = rate * 0.05 });
            if (tick == 12 * 240)
            {
                Assert.False(profile.KnowsDay); // half a day: no hour after noon seen yet
                Assert.DoesNotContain(true, profile.ColdHours(0.02));
            }
        }

        Assert.True(profile.KnowsDay);
        Assert.False(profile.KnowsWeek);
        Assert.Equal(0.5, profile.RateAt(start.AddDays(1).AddHours(13))!.Value, 6);
        Assert.Equal(0.001, profile.RateAt(start.AddDays(1).AddHours(3))!.Value, 6);
        Assert.Equal(0.15, profile.TierShare[(int)Tier.Pro], 2);

        // 00:00–06:00 hold 0.33 % of the day's jobs: all cold at 2 %, none at 0.1 %, some between.
        var cold = profile.ColdHours(0.02);
        Assert.Equal(Enumerable.Range(0, 6), Enumerable.Range(0, 24).Where(h => cold[h]));
        Assert.DoesNotContain(true, profile.ColdHours(0.0001));
        Assert.InRange(profile.ColdHours(0.002).Count(c => c), 1, 5);
        // An hour busier than the break-even rate is never cold, however small its share.
        Assert.DoesNotContain(true, profile.ColdHours(0.02, maxRatePerSecond: 0.0005));

        // A shifted day moves the bin halfway at once (half weight to the newest day).
        var shifted = profile;
        for (var tick = 0; tick <= 240; tick++)
        {
            shifted = shifted.Learn(start.AddDays(1).AddHours(3).AddSeconds(15 * tick), new Dictionary<Tier, double> { [Tier.Free] = 0.101 });
        }

        Assert.Equal((0.001 + 0.101) / 2, shifted.ByDayHour[3], 6);
    }

    [Fact]
    public void AProfileStartsFromTheRecordedHistory()
    {
        // Two days of history from Monday 00:00: 36 jobs in each 03:00 hour, 720 in each 14:00 hour
        // (a third Pro, two thirds Free), none otherwise; "now" is Wednesday 00:30.
        var monday = new DateTimeOffset(2026, 3, 2, 0, 0, 0, TimeSpan.Zero);
        var rows = new List<(long Hour, int Tier, long Count)>();
        foreach (var day in new[] { 0, 1 })
        {
            var h3 = monday.AddDays(day).AddHours(3).ToUnixTimeSeconds() / 3600;
            var h14 = monday.AddDays(day).AddHours(14).ToUnixTimeSeconds() / 3600;
            rows.AddRange([(h3, 0, 24), (h3, 2, 12), (h14, 0, 480), (h14, 2, 240)]);
        }

        rows.Add((monday.ToUnixTimeSeconds() / 3600, 0, 0)); // the history starts at Monday 00:00
        var profile = DemandProfile.From(rows, monday.AddDays(2).AddMinutes(30));
        Assert.True(profile.KnowsDay);
        Assert.False(profile.KnowsWeek);
        Assert.Equal(0.01, profile.RateAt(monday.AddDays(2).AddHours(3))!.Value, 9);
        Assert.Equal(0.2, profile.RateAt(monday.AddDays(2).AddHours(14))!.Value, 9);
        Assert.Equal(0, profile.RateAt(monday.AddDays(2).AddHours(20))!.Value);
        Assert.Equal(1 / 3.0, profile.TierShare[(int)Tier.Pro], 9);
        Assert.Equal(0.2, profile.ByWeekHour[DemandProfile.WeekHour(monday.AddDays(1).AddHours(14))], 9);
        Assert.Equal(-1, profile.ByWeekHour[DemandProfile.WeekHour(monday.AddDays(2).AddHours(14))]); // Wednesday not seen yet
        Assert.Contains(true, profile.ColdHours(0.02));
        Assert.False(DemandProfile.From([], monday).KnowsDay);
    }

    [Fact]
    public void AQuietHourScalesToZeroOnlyAfterTheKeepAliveAndABusyHourNever()
    {
        var policy = new ForecastPolicy();
        var hot = new[] { Hot("p") };
        var justNow = new DateTimeOffset(2026, 3, 2, 3, 0, 0, TimeSpan.Zero).AddMinutes(-1);
        Assert.Empty(policy.Decide(At(3, 0, hot, lastArrival: justNow)).Actions.OfType<StopAction>());

        var idle = new DateTimeOffset(2026, 3, 2, 3, 0, 0, TimeSpan.Zero) - policy.Options.KeepAlive - TimeSpan.FromSeconds(1);
        var stop = Assert.Single(policy.Decide(At(3, 0, hot, lastArrival: idle)).Actions.OfType<StopAction>());
        Assert.Equal("p", stop.InstanceId);
        Assert.Contains("scale to zero", stop.Reason, StringComparison.Ordinal);
        Assert.True(policy.Explain(At(3, 0, hot)).QuietNow);

        // At 05:57 the morning is within a resume: not quiet any more, the instance stays.
        Assert.Empty(policy.Decide(At(5, 57, hot, lastArrival: idle.AddHours(3))).Actions.OfType<StopAction>());
        // Noon, idle as long: a busy hour keeps one HOT.
        Assert.Empty(policy.Decide(At(12, 0, hot, queues: Queues(ratePerSecond: 0.001), lastArrival: idle.AddHours(9))).Actions.OfType<StopAction>());
        // No day learned yet: nothing is quiet.
        Assert.Empty(policy.Decide(At(3, 0, hot, lastArrival: idle, profile: new DemandProfile())).Actions.OfType<StopAction>());
    }

    [Fact]
    public void TheFirstJobAfterZeroResumesOneStandbyAndWaitsForItWithoutPilingUp()
    {
        var policy = new ForecastPolicy();
        var waiting = Queues(depth: 1, freeWait: 20, proWait: 20);
        var first = policy.Decide(At(3, 0, [Warm("w1"), Warm("w2")], waiting));
        Assert.Equal("w1", Assert.Single(first.Actions.OfType<ResumeAction>()).InstanceId);
        Assert.Empty(first.Actions.OfType<RentAction>());

        // A minute later the job still waits (past half its target) while w1 resumes: nothing more.
        var resuming = Warm("w1") with { Pending = InstanceState.Hot };
        var later = policy.Decide(At(3, 1, [resuming, Warm("w2")], Queues(depth: 1, freeWait: 80, proWait: 80)));
        Assert.Empty(later.Actions.OfType<ResumeAction>());
        Assert.Empty(later.Actions.OfType<RentAction>());
        Assert.Empty(later.Actions.OfType<RefuseTierAction>()); // Free waits out the start; it is not turned away
    }

    [Fact]
    public void AForecastPeakResumesStandbysAResumeAheadNotBefore()
    {
        var policy = new ForecastPolicy();
        var fleet = new[] { Hot("p"), Warm("w1"), Warm("w2"), Warm("w3"), Warm("w4"), Warm("w5"), Warm("w6") };
        var calm = Queues(ratePerSecond: 0.1);
        // 13:00 brings 0.5 jobs/s (2.75 Erlangs). At 12:30 the peak is more than a resume away.
        Assert.Empty(policy.Decide(At(12, 30, fleet, calm)).Actions.OfType<ResumeAction>());
        var ahead = policy.Decide(At(12, 55, fleet, calm));
        var need = policy.Needed(LearnedDay().Split(0.5), 5.5);
        Assert.InRange(need, 3, 7);
        Assert.Equal(need - 1, ahead.Actions.OfType<ResumeAction>().Count());
        Assert.All(ahead.Actions.OfType<ResumeAction>(), a => Assert.Contains("forecast", a.Reason, StringComparison.Ordinal));
        Assert.Equal(need, policy.Explain(At(12, 55, fleet, calm)).HotAhead);
    }

    [Fact]
    public void StandbysAreRentedARentAheadOfTheForecastPeak()
    {
        var policy = new ForecastPolicy();
        var calm = Queues(ratePerSecond: 0.1);
        // 11:50: the 13:00 peak is within the rent lead (75 min); one HOT, nothing held for it yet.
        var rent = Assert.Single(policy.Decide(At(11, 50, [Hot("p")], calm)).Actions.OfType<RentAction>());
        Assert.False(rent.ResumeWhenWarm);
        Assert.Empty(policy.Decide(At(10, 0, [Hot("p")], calm)).Actions.OfType<RentAction>());
    }

    [Fact]
    public void OnAFourDayMonthTheForecastPolicyScalesToZeroMeetsTheTargetsAndCostsLessThanTheSeedRules()
    {
        var trace = Trace.Generate(TraceOptions.Standard with { Days = 4 });
        var options = new SimulationOptions();
        var seed = Simulator.Run(trace, PoolPolicies.Create("seed")!, options);
        var forecast = Simulator.Run(trace, PoolPolicies.Create("forecast")!, options with { Limits = options.Limits with { MinHot = 0 } });
        var summary = $"seed ${seed.TotalCostUsd}, forecast ${forecast.TotalCostUsd}: " + string.Join("; ", forecast.Tiers.Select(t => $"{t.Tier} p95 {t.P95Seconds:0.0} s, from zero {t.FromZero} (p50 {t.FromZeroP50Seconds:0} s), refused {t.Refused}, expired {t.Expired}"));
        Assert.True(forecast.TotalCostUsd < seed.TotalCostUsd * 0.9m, summary); // the first day it learns (no quiet hours yet); a month saves ~38 %
        Assert.True(forecast.Tier(Tier.Pro).P95Seconds <= 30 && forecast.Tier(Tier.Enterprise).P95Seconds <= 30 && forecast.Tier(Tier.Premium).P95Seconds <= 120, summary);
        // It went to zero: some jobs met no running instance and waited for a start (minutes).
        var fromZero = forecast.Tiers.Sum(t => t.FromZero);
        Assert.True(fromZero > 0, summary);
        Assert.True(forecast.Tiers.Where(t => t.FromZero > 0).Max(t => t.FromZeroMaxSeconds) >= 120, summary);
        Assert.All(forecast.Tiers, t => Assert.InRange(t.Served + t.Refused + t.Expired, t.Arrived - 5, t.Arrived)); // a few still queued at the end
    }

    [Fact]
    public void TiersThatMustNotRunOnSpotGetOnDemandCapacity()
    {
        var policy = new ForecastPolicy(new ForecastPolicyOptions { OnDemandTiers = new HashSet<Tier> { Tier.Enterprise } });
        var onDemandStandby = Warm("od") with { GpuType = "rtx-4090-ondemand", HotPerHour = 0.80m, WarmPerHour = 0.10m };
        var enterpriseWaiting = Queues(ratePerSecond: 0.1);
        enterpriseWaiting[Tier.Enterprise] = new TierQueue(1, 5, 0.005);

        // A spot instance is HOT, but an Enterprise job may not run there: the on-demand standby is resumed.
        var resume = policy.Decide(At(12, 0, [Hot("p"), onDemandStandby], enterpriseWaiting)).Actions.OfType<ResumeAction>();
        Assert.Contains(resume, a => a.InstanceId == "od" && a.Reason.Contains("on-demand", StringComparison.Ordinal));

        // No on-demand standby: one is rented, straight to HOT, as the cheapest offer that is not spot.
        var rent = Assert.Single(policy.Decide(At(12, 0, [Hot("p")], enterpriseWaiting)).Actions.OfType<RentAction>(), r => r.ResumeWhenWarm);
        Assert.Equal("rtx-a4000", rent.GpuType);

        // The on-demand instance the tier needs is not the one scaled in.
        var od = Hot("od") with { GpuType = "rtx-4090-ondemand", Since = Noon.AddHours(-2) };
        var memory = new PoolMemory { PrimaryId = "p", Profile = LearnedDay(), SurplusSince = Noon.AddHours(-1) };
        var calm = Queues(ratePerSecond: 0.02);
        calm[Tier.Enterprise] = new TierQueue(0, 0, 0.001);
        var surplus = policy.Decide(Of([Hot("p", TimeSpan.FromHours(3)), Hot("s"), od], calm, memory, now: Noon.AddHours(-1).AddMinutes(30)) with { LastArrivalAt = Noon });
        Assert.DoesNotContain(surplus.Actions.OfType<StopAction>(), a => a.InstanceId == "od");

        // Without the option, the same Enterprise job needs nothing more than the spot instance.
        Assert.DoesNotContain(new ForecastPolicy().Decide(At(12, 0, [Hot("p")], enterpriseWaiting)).Actions.OfType<RentAction>(), r => r.ResumeWhenWarm);
    }

    [Fact]
    public void InTheSimulatorOnDemandTiersRunOnlyOnOnDemandMachinesAndPreemptionsCostWork()
    {
        var trace = Trace.Generate(TraceOptions.Standard with { Days = 3 });
        var onDemand = new HashSet<Tier> { Tier.Enterprise };
        var options = new SimulationOptions { OnDemandTiers = onDemand, Limits = new PoolLimits { MinHot = 0 } };
        var r = Simulator.Run(trace, PoolPolicies.Create("forecast", onDemandTiers: onDemand)!, options);
        string Summary(SimulationResult x) => $"${x.TotalCostUsd}; " + string.Join(", ", x.Actions.Select(a => $"{a.Key} {a.Value}")) + "; " + string.Join("; ", x.Tiers.Select(t => $"{t.Tier} p95 {t.P95Seconds:0.0} s served {t.Served}/{t.Arrived}"));
        Assert.Contains(r.Actions.Keys, k => k == "rented:rtx-a4000"); // on-demand capacity, the cheapest not spot
        Assert.True(r.Tier(Tier.Enterprise).Served >= r.Tier(Tier.Enterprise).Arrived - 5, Summary(r));
        Assert.Equal(0, r.Tier(Tier.Enterprise).OnSpot); // none ran on a spot machine
        Assert.True(r.Tier(Tier.Free).OnSpot > 0, Summary(r)); // the others did
        Assert.True(r.Tier(Tier.Pro).P95Seconds <= 30, Summary(r));

        // A cloud that takes spot machines back often: the preemptions and the work they cost are reported.
        var stormy = Simulator.Run(trace, PoolPolicies.Create("forecast")!, options with { OnDemandTiers = new HashSet<Tier>(), Provider = new Actors.Fleet.Providers.SimulatedProviderOptions { SpotPreemptionsPerHour = 0.2 } });
        Assert.True(stormy.Actions.GetValueOrDefault("preempted") > 0, Summary(stormy));
        Assert.True(stormy.LostWorkSeconds > 0, Summary(stormy)); // the work they were doing runs again
    }

    [Fact]
    public void TheTracesThatCanFoolAPredictorMoveThePeakAndHaveAViralDay()
    {
        var shifted = Trace.Generate(TraceOptions.Shifted with { Days = 20, BurstsPerDay = 0 });
        // Arrivals in the three hours around 11:00 against those around 14:00, before and after day 15.
        double EarlyOverLate(IEnumerable<Arrival> arrivals)
        {
            var hours = arrivals.Select(a => a.AtSeconds / 3600 % 24).ToList();
            return hours.Count(h => h is >= 9.5 and < 12.5) / (double)hours.Count(h => h is >= 12.5 and < 15.5);
        }

        Assert.InRange(EarlyOverLate(shifted.Where(a => a.AtSeconds < 15 * 86400)), 0.2, 0.6);
        Assert.InRange(EarlyOverLate(shifted.Where(a => a.AtSeconds >= 15 * 86400)), 1.7, 5);

        var viral = Trace.Generate(TraceOptions.ViralMonth with { Days = 22, BurstsPerDay = 0 });
        double Between(int day, double from, double to) => viral.Count(a => a.AtSeconds >= day * 86400 + from * 3600 && a.AtSeconds < day * 86400 + to * 3600);
        Assert.InRange(Between(20, 10, 16) / Between(19, 10, 16), 8.5, 11.5);
        Assert.InRange(Between(20, 17, 24) / Between(19, 17, 24), 0.7, 1.4);
        Assert.Null(TraceOptions.Named("nope"));
    }
}
