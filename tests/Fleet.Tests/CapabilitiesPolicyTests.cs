using Actors.Fleet.Policies;
using Actors.Fleet.Providers;
using Actors.Grains.Instances;

namespace Actors.Fleet.Tests;

/// <summary>The operator's limits wrapper carries out any policy within what the provider can do.</summary>
public sealed class CapabilitiesPolicyTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 5, 12, 0, 0, TimeSpan.Zero);

    /// <summary>Asks for one of each: stop i-2, resume i-3, a WARM standby rent, an overflow rent.</summary>
    private sealed class Everything : IPoolPolicy
    {
        public string Name => "everything";

        public PoolDecision Decide(PoolSnapshot s) => new(
        [
            new StopAction("i-2", "quiet"), new ResumeAction("i-3", "busy"),
            new RentAction(s.GpuType, ResumeWhenWarm: false, "standby"), new RentAction(s.GpuType, ResumeWhenWarm: true, "overflow"),
        ], s.Memory);
    }

    private static PoolSnapshot Snapshot(bool canStop) =>
        new(T0, [
                new InstanceView("i-1", "rtx-4090-spot", InstanceState.Hot, T0.AddHours(-2), 0.40m, 0.08m),
                new InstanceView("i-2", "rtx-4090-spot", InstanceState.Hot, T0.AddHours(-1), 0.40m, 0.08m),
                new InstanceView("i-3", "rtx-4090-spot", InstanceState.Warm, T0.AddHours(-1), 0.40m, 0.08m),
            ],
            new Dictionary<Grains.Tenants.Tier, TierQueue>(), 5.5, 0m, new PoolLimits { MinHot = 1, MaxInstances = 8 }, new PoolMemory())
        {
            Capabilities = new ProviderCapabilities(canStop, Spot: false, StoppedBillsStorage: canStop, TimeSpan.FromMinutes(5)),
        };

    [Fact]
    public void WhereTheProviderCannotStopAStopIsAReleaseAndNothingIsKeptWarm()
    {
        var actions = new LimitedPolicy(new Everything()).Decide(Snapshot(canStop: false)).Actions;

        var release = Assert.Single(actions.OfType<ReleaseAction>());
        Assert.Equal("i-2", release.InstanceId);
        Assert.Contains("cannot stop", release.Reason, StringComparison.Ordinal);
        Assert.Empty(actions.OfType<StopAction>());
        Assert.Empty(actions.OfType<ResumeAction>());
        Assert.All(actions.OfType<RentAction>(), r => Assert.True(r.ResumeWhenWarm)); // up and running, or not at all
        Assert.Single(actions.OfType<RentAction>());
    }

    [Fact]
    public void WhereTheProviderCanStopThePolicysActionsStandAsTheyAre()
    {
        var actions = new LimitedPolicy(new Everything()).Decide(Snapshot(canStop: true)).Actions;
        Assert.Equal(["StopAction", "ResumeAction", "RentAction", "RentAction"], actions.Select(a => a.GetType().Name));
    }

    [Fact]
    public void AReleaseInPlaceOfAStopKeepsMinHot()
    {
        var snapshot = Snapshot(canStop: false) with { Limits = new PoolLimits { MinHot = 2, MaxInstances = 8 } };
        var actions = new LimitedPolicy(new Everything()).Decide(snapshot).Actions;
        Assert.Empty(actions.OfType<ReleaseAction>()); // releasing i-2 would leave one running of the two required
    }
}
