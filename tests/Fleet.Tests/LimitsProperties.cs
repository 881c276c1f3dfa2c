using Actors.Fleet.Policies;
using Actors.Grains.Instances;
using Actors.Grains.Tenants;
using FsCheck;
using FsCheck.Fluent;

namespace Actors.Fleet.Tests;

/// <summary>Whatever the policy and the situation, the operator's limits hold after its actions.</summary>
public sealed class LimitsProperties
{
    private static readonly InstanceState?[] Pendings = [null, null, null, InstanceState.Hot, InstanceState.Warm, InstanceState.Cold];

    private static Gen<InstanceView> InstanceGen(int index) =>
        from state in Gen.Elements(InstanceState.Cold, InstanceState.Warm, InstanceState.Hot, InstanceState.Serving)
        from pending in Gen.Elements(Pendings)
        from ageMinutes in Gen.Choose(0, 3000)
        select new InstanceView($"i{index}", "rtx-4090-spot", state, Snapshots.Noon.AddMinutes(-ageMinutes), 0.40m, 0.08m)
        {
            Pending = state == InstanceState.Cold ? InstanceState.Warm : pending is InstanceState.Warm && state == InstanceState.Warm ? null : pending,
        };

    private static Gen<PoolSnapshot> SnapshotGen =>
        from generated in InstanceGen(0).ListOf()
        let instances = generated.Take(7).Select((i, n) => i with { Id = $"i{n}" })
        from depth in Gen.Choose(0, 80)
        from freeWait in Gen.Choose(0, 400)
        from proWait in Gen.Choose(0, 90)
        from rateMilli in Gen.Choose(0, 2000)
        from minHot in Gen.Choose(0, 3)
        from max in Gen.Choose(1, 8)
        from capCents in Gen.Choose(0, 4000)
        from hasCap in Gen.Elements(true, false)
        from spentCents in Gen.Choose(0, 3000)
        from minute in Gen.Choose(0, 1439)
        select new PoolSnapshot(
            Snapshots.Noon.Date.AddMinutes(minute),
            instances.ToList(),
            Snapshots.Queues(depth, freeWait, proWait: proWait, ratePerSecond: rateMilli / 1000.0),
            5.5,
            spentCents / 100m,
            new PoolLimits { MinHot = minHot, MaxInstances = max, DailyBudgetUsd = hasCap ? capCents / 100m : null },
            new PoolMemory { QuietSince = Snapshots.Noon.Date.AddMinutes(minute - 45), SurplusSince = Snapshots.Noon.Date.AddMinutes(minute - 45) });

    public static TheoryData<string> Policies => ["seed", "slo"];

    [Theory]
    [MemberData(nameof(Policies))]
    public void LimitsHoldAfterEveryDecision(string name)
    {
        var policy = new LimitedPolicy(name == "seed" ? new SeedPolicy() : new SloPolicy());
        Prop.ForAll(SnapshotGen.ToArbitrary(), s =>
        {
            var decision = policy.Decide(s);
            var after = Apply(s, decision.Actions);
            var budgetAlert = decision.Actions.OfType<AlertAction>().Any(a => a.Name == "budget_cap");

            // Max instances: never more held than allowed (or than were already held).
            var rentedBefore = s.Instances.Count(i => i.Rented);
            Assert.True(after.Count(i => i.Rented) <= Math.Max(s.Limits.MaxInstances, rentedBefore), "max instances");

            // Budget: what is spent plus the fleet's rate until midnight stays within the cap.
            if (s.Limits.DailyBudgetUsd is { } cap && s.SpentTodayUsd <= cap)
            {
                var projected = s.SpentTodayUsd + after.Sum(i => i.CurrentPerHour) * (decimal)s.HoursLeftToday;
                // What no single decision can shed: operations in flight, and a running instance
                // goes to WARM first (it is released on a later tick).
                var floor = s.SpentTodayUsd + (s.Instances.Where(i => i.Pending is not null).Sum(i => i.CurrentPerHour)
                    + s.Instances.Where(i => i.Active && i.Pending is null).Sum(i => i.WarmPerHour)) * (decimal)s.HoursLeftToday;
                Assert.True(projected <= Math.Max(cap, floor), $"budget: {projected} > {cap}; before {string.Join("; ", s.Instances)}; actions {string.Join("; ", decision.Actions)}");
            }

            // Min HOT: stops never take the fleet below it unless the budget forced them.
            var stops = decision.Actions.OfType<StopAction>().Count();
            var activeBefore = s.Instances.Count(i => i.Active);
            Assert.True(budgetAlert || stops == 0 || activeBefore - stops >= s.Limits.MinHot, "min HOT");

            // Below min HOT: something is done about it (or the budget/max forbids it).
            var scaleOut = decision.Actions.OfType<ResumeAction>().Count() + decision.Actions.OfType<RentAction>().Count(r => r.ResumeWhenWarm)
                + s.Instances.Count(i => i.Renting);
            Assert.True(activeBefore + scaleOut >= s.Limits.MinHot || budgetAlert
                || decision.Actions.OfType<AlertAction>().Any(a => a.Name == "max_instances") || !PoolRulesMayRent(s), "min HOT reached");
        }).QuickCheckThrowOnFailure();
    }

    private static bool PoolRulesMayRent(PoolSnapshot s) => s.Memory.RentBackoffUntil is not { } until || s.Now >= until;

    /// <summary>The fleet once the actions have taken effect (pending operations as pending).</summary>
    private static List<InstanceView> Apply(PoolSnapshot s, IEnumerable<PoolAction> actions)
    {
        var fleet = s.Instances.ToDictionary(i => i.Id);
        var n = 0;
        foreach (var action in actions)
        {
            switch (action)
            {
                case RentAction rent:
                    var id = $"new{n++}";
                    fleet[id] = new InstanceView(id, rent.GpuType, rent.ResumeWhenWarm ? InstanceState.Hot : InstanceState.Warm, s.Now, 0.40m, 0.08m);
                    break;
                case ResumeAction r:
                    fleet[r.InstanceId] = fleet[r.InstanceId] with { Pending = InstanceState.Hot };
                    break;
                case StopAction st:
                    fleet[st.InstanceId] = fleet[st.InstanceId] with { State = InstanceState.Warm, Pending = null };
                    break;
                case ReleaseAction rel:
                    fleet[rel.InstanceId] = fleet[rel.InstanceId] with { State = InstanceState.Cold, Pending = null };
                    break;
            }
        }

        return [.. fleet.Values];
    }

    [Fact]
    public void TheBudgetCapStopsScalingOutAndAlerts()
    {
        var s = Snapshots.Of([Snapshots.Hot("p"), Snapshots.Warm("w")], Snapshots.Queues(depth: 50), limits: new PoolLimits { DailyBudgetUsd = 10m }, spent: 4.0m);
        var decision = new LimitedPolicy(new SeedPolicy()).Decide(s);
        Assert.Empty(decision.Actions.OfType<ResumeAction>());
        Assert.Contains(decision.Actions, a => a is AlertAction { Name: "budget_cap" });
        // Without the cap the same situation resumes the standby.
        Assert.Single(new LimitedPolicy(new SeedPolicy()).Decide(s with { Limits = new PoolLimits() }).Actions.OfType<ResumeAction>());
    }
}
