using Actors.Fleet.Policies;
using Actors.Grains.Tenants;
using static Actors.Fleet.Tests.Snapshots;

namespace Actors.Fleet.Tests;

public sealed class SeedPolicyTests
{
    private static readonly SeedPolicy Policy = new();

    [Fact]
    public void ResumesTheStandbyOnlyAboveTenQueued()
    {
        var fleet = new[] { Hot("p"), Warm("w") };
        Assert.Empty(Policy.Decide(Of(fleet, Queues(depth: 10))).Actions.OfType<ResumeAction>());
        var resume = Assert.Single(Policy.Decide(Of(fleet, Queues(depth: 11))).Actions.OfType<ResumeAction>());
        Assert.Equal("w", resume.InstanceId);
    }

    [Fact]
    public void RentsOnlyAboveThirtyQueuedAndWhenAllAreHot()
    {
        var allHot = new[] { Hot("p"), Hot("b", serving: true) };
        Assert.Empty(Policy.Decide(Of(allHot, Queues(depth: 30))).Actions.OfType<RentAction>());
        var rent = Assert.Single(Policy.Decide(Of(allHot, Queues(depth: 31))).Actions.OfType<RentAction>());
        Assert.True(rent.ResumeWhenWarm);

        // A WARM standby left: resume it instead of renting.
        var actions = Policy.Decide(Of([Hot("p"), Warm("w")], Queues(depth: 31))).Actions;
        Assert.Empty(actions.OfType<RentAction>());
        Assert.Single(actions.OfType<ResumeAction>());
    }

    [Fact]
    public void StopsTheOldestNonPrimaryAfterThirtyQuietMinutes()
    {
        var fleet = new[] { Hot("p", TimeSpan.FromHours(9)), Hot("old", TimeSpan.FromHours(5)), Hot("new", TimeSpan.FromHours(1)) };
        var almost = new PoolMemory { PrimaryId = "p", QuietSince = Noon - TimeSpan.FromMinutes(30) + TimeSpan.FromSeconds(1) };
        var decision = Policy.Decide(Of(fleet, Queues(depth: 2), almost));
        Assert.Empty(decision.Actions.OfType<StopAction>());
        Assert.Equal(almost.QuietSince, decision.Memory.QuietSince);

        var quiet = almost with { QuietSince = Noon - TimeSpan.FromMinutes(30) };
        decision = Policy.Decide(Of(fleet, Queues(depth: 2), quiet));
        Assert.Equal("old", Assert.Single(decision.Actions.OfType<StopAction>()).InstanceId);
        Assert.Equal(Noon, decision.Memory.QuietSince); // the next stop waits another 30 min

        // Three queued is not quiet: the clock resets.
        decision = Policy.Decide(Of(fleet, Queues(depth: 3), quiet));
        Assert.Empty(decision.Actions.OfType<StopAction>());
        Assert.Null(decision.Memory.QuietSince);

        // One instance: nothing to stop.
        Assert.Empty(Policy.Decide(Of([Hot("p")], Queues(depth: 0), quiet)).Actions.OfType<StopAction>());
    }

    [Fact]
    public void ReleasesWarmAfterTwentyFourHours()
    {
        Assert.Empty(Policy.Decide(Of([Hot("p"), Warm("w", TimeSpan.FromHours(24))])).Actions.OfType<ReleaseAction>());
        var release = Assert.Single(Policy.Decide(Of([Hot("p"), Warm("w", TimeSpan.FromHours(24) + TimeSpan.FromSeconds(1))])).Actions.OfType<ReleaseAction>());
        Assert.Equal("w", release.InstanceId);
    }

    [Fact]
    public void AlwaysKeepsOneHotPrimary()
    {
        var decision = Policy.Decide(Of([Warm("w")], memory: new PoolMemory()));
        Assert.Equal("w", Assert.Single(decision.Actions.OfType<ResumeAction>()).InstanceId);
        decision = Policy.Decide(Of([], memory: new PoolMemory()));
        Assert.Single(decision.Actions.OfType<RentAction>());
        // The primary is never the one stopped.
        decision = Policy.Decide(Of([Hot("a", TimeSpan.FromHours(1)), Hot("b", TimeSpan.FromHours(3))], memory: new PoolMemory { QuietSince = Noon.AddHours(-1) }));
        Assert.Equal("b", decision.Memory.PrimaryId);
        Assert.Equal("a", Assert.Single(decision.Actions.OfType<StopAction>()).InstanceId);
    }

    [Fact]
    public void OverflowRulesFireAboveTheirWaits()
    {
        var fleet = new[] { Hot("p"), Warm("w") };
        Assert.Empty(Policy.Decide(Of(fleet, Queues(freeWait: 60))).Actions.OfType<RefuseTierAction>());
        Assert.Equal(Tier.Free, Assert.Single(Policy.Decide(Of(fleet, Queues(freeWait: 60.5))).Actions.OfType<RefuseTierAction>()).Tier);

        Assert.Empty(Policy.Decide(Of(fleet, Queues(premiumWait: 120))).Actions.OfType<ResumeAction>());
        Assert.Single(Policy.Decide(Of(fleet, Queues(premiumWait: 120.5))).Actions.OfType<ResumeAction>());

        Assert.Empty(Policy.Decide(Of(fleet, Queues(proWait: 30))).Actions.OfType<RentAction>());
        Assert.Single(Policy.Decide(Of(fleet, Queues(proWait: 30.5))).Actions.OfType<RentAction>());
    }

    [Fact]
    public void OneResumeOrRentAtATime()
    {
        var resuming = Warm("r") with { Pending = Grains.Instances.InstanceState.Hot };
        Assert.Empty(Policy.Decide(Of([Hot("p"), resuming, Warm("w")], Queues(depth: 50))).Actions.OfType<ResumeAction>());
        var renting = new InstanceView("x", "rtx-4090-spot", Grains.Instances.InstanceState.Cold, Noon, 0.4m, 0.08m) { Pending = Grains.Instances.InstanceState.Warm };
        Assert.Empty(Policy.Decide(Of([Hot("p"), renting], Queues(proWait: 90))).Actions.OfType<RentAction>());
    }
}
