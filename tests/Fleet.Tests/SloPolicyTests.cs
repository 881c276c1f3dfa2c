using Actors.Fleet.Policies;
using Actors.Fleet.Queueing;
using Actors.Grains.Instances;
using Actors.Grains.Tenants;
using static Actors.Fleet.Tests.Snapshots;

namespace Actors.Fleet.Tests;

public sealed class SloPolicyTests
{
    [Fact]
    public void HotCountComesFromErlangC()
    {
        var policy = new SloPolicy();
        // 1 job/s at 5.5 s each is 5.5 Erlangs: at least 6 instances, and exactly what the
        // Free tier's p95 ≤ 300 s (all traffic) or Pro's p95 ≤ 30 s (drained by what is ahead) needs.
        var s = Of([Hot("p")], Queues(ratePerSecond: 1.0));
        var need = policy.Needed(s, 1.0);
        Assert.True(need >= 6);
        var mu = 1 / 5.5;
        Assert.True(ErlangC.WaitPercentile(need, 1.0, mu, 0.95) <= 300);
        Assert.True(ErlangC.WaitPercentile(need, 1.0, mu, 0.95, drainArrivalPerSecond: 0.2) <= 30);
        Assert.True(ErlangC.WaitPercentile(need - 1, 1.0, mu, 0.95) > 300 || ErlangC.WaitPercentile(need - 1, 1.0, mu, 0.95, 0.2) > 30
            || ErlangC.WaitPercentile(need - 1, 1.0, mu, 0.95, 0.5) > 120);

        var decision = policy.Decide(s with { Instances = [Hot("p"), Warm("w1"), Warm("w2")] });
        Assert.Equal(2, decision.Actions.OfType<ResumeAction>().Count());
        Assert.Equal(need - 3, decision.Actions.OfType<RentAction>().Count(r => r.ResumeWhenWarm));
    }

    [Fact]
    public void ConstantLoadNeverFlaps()
    {
        // Play a day at a constant rate, tick by tick, applying the actions at once: after the
        // first decision the fleet stays as it is.
        foreach (var rate in new[] { 0.05, 0.2, 0.35, 0.8 })
        {
            var policy = new SloPolicy();
            var fleet = new List<InstanceView> { Hot("p") };
            var memory = new PoolMemory();
            var changes = 0;
            for (var tick = 0; tick < 24 * 60 * 4; tick++)
            {
                var now = Noon.AddSeconds(15 * tick);
                var decision = policy.Decide(Of(fleet, Queues(ratePerSecond: rate), memory, now: now));
                memory = decision.Memory;
                var scaling = decision.Actions.Where(a => a is ResumeAction or StopAction or RentAction { ResumeWhenWarm: true }).ToList();
                if (tick > 0)
                {
                    changes += scaling.Count;
                }

                foreach (var a in scaling)
                {
                    switch (a)
                    {
                        case RentAction:
                            fleet.Add(Hot($"n{fleet.Count}") with { Since = now });
                            break;
                        case ResumeAction r:
                            fleet[fleet.FindIndex(i => i.Id == r.InstanceId)] = fleet.First(i => i.Id == r.InstanceId) with { State = InstanceState.Hot, Since = now };
                            break;
                        case StopAction st:
                            fleet[fleet.FindIndex(i => i.Id == st.InstanceId)] = fleet.First(i => i.Id == st.InstanceId) with { State = InstanceState.Warm, Since = now };
                            break;
                    }
                }
            }

            Assert.True(changes == 0, $"rate {rate}/s: {changes} scaling actions after the first tick");
        }
    }

    [Fact]
    public void ScalesInOnlyAfterTheSurplusHasLasted()
    {
        var policy = new SloPolicy();
        var fleet = new[] { Hot("p", TimeSpan.FromHours(5)), Hot("a", TimeSpan.FromHours(2)), Hot("b", TimeSpan.FromHours(1)) };
        var memory = new PoolMemory { PrimaryId = "p", SurplusSince = Noon - policy.Options.ScaleInAfter + TimeSpan.FromSeconds(1) };
        Assert.Empty(policy.Decide(Of(fleet, Queues(ratePerSecond: 0.01), memory)).Actions.OfType<StopAction>());
        memory = memory with { SurplusSince = Noon - policy.Options.ScaleInAfter };
        Assert.Equal("b", Assert.Single(policy.Decide(Of(fleet, Queues(ratePerSecond: 0.01), memory)).Actions.OfType<StopAction>()).InstanceId);
    }

    [Fact]
    public void ABurstTheRateHasNotShownAddsOne()
    {
        var policy = new SloPolicy();
        var actions = policy.Decide(Of([Hot("p"), Warm("w")], Queues(depth: 40, proWait: 20, ratePerSecond: 0.01))).Actions;
        Assert.Equal("w", Assert.Single(actions.OfType<ResumeAction>()).InstanceId);
    }

    [Fact]
    public void WarmPoolIsReleasedAfterBreakEvenUnlessNeededSoon()
    {
        var policy = new SloPolicy();
        var old = Warm("w", TimeSpan.FromHours(6));
        Assert.Single(policy.Decide(Of([Hot("p"), old])).Actions.OfType<ReleaseAction>());
        // Yesterday this hour and the next needed two: keep it.
        var byHour = new int[24];
        byHour[(Noon.Hour + 1) % 24] = 2;
        Assert.Empty(policy.Decide(Of([Hot("p"), old], memory: new PoolMemory { PrimaryId = "p", NeededByHour = byHour, NeededHour = Noon.Hour })).Actions.OfType<ReleaseAction>());
        // And with none held it rents one ahead.
        var rent = Assert.Single(policy.Decide(Of([Hot("p")], memory: new PoolMemory { PrimaryId = "p", NeededByHour = byHour, NeededHour = Noon.Hour })).Actions.OfType<RentAction>());
        Assert.False(rent.ResumeWhenWarm);
    }

    [Fact]
    public void FreeIsRefusedAfterSixtySeconds()
    {
        var policy = new SloPolicy();
        Assert.Empty(policy.Decide(Of([Hot("p")], Queues(freeWait: 59))).Actions.OfType<RefuseTierAction>());
        Assert.Equal(Tier.Free, Assert.Single(policy.Decide(Of([Hot("p")], Queues(freeWait: 61))).Actions.OfType<RefuseTierAction>()).Tier);
    }
}
