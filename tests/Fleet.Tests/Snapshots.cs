using Actors.Fleet.Policies;
using Actors.Grains.Instances;
using Actors.Grains.Tenants;

namespace Actors.Fleet.Tests;

/// <summary>Builds policy inputs: an instance list and queues at a fixed moment.</summary>
internal static class Snapshots
{
    public static readonly DateTimeOffset Noon = new(2026, 3, 2, 12, 0, 0, TimeSpan.Zero);

    public static InstanceView Hot(string id, TimeSpan age = default, bool serving = false) =>
        new(id, "rtx-4090-spot", serving ? InstanceState.Serving : InstanceState.Hot, Noon - (age == default ? TimeSpan.FromHours(1) : age), 0.40m, 0.08m);

    public static InstanceView Warm(string id, TimeSpan age = default) =>
        new(id, "rtx-4090-spot", InstanceState.Warm, Noon - (age == default ? TimeSpan.FromHours(1) : age), 0.40m, 0.08m);

    public static Dictionary<Tier, TierQueue> Queues(int depth = 0, double freeWait = 0, double premiumWait = 0, double proWait = 0, double ratePerSecond = 0) => new()
    {
        [Tier.Free] = new TierQueue(depth, freeWait, ratePerSecond * 0.5),
        [Tier.Premium] = new TierQueue(0, premiumWait, ratePerSecond * 0.3),
        [Tier.Pro] = new TierQueue(0, proWait, ratePerSecond * 0.15),
        [Tier.Enterprise] = new TierQueue(0, 0, ratePerSecond * 0.05),
    };

    public static PoolSnapshot Of(IEnumerable<InstanceView> instances, Dictionary<Tier, TierQueue>? queues = null, PoolMemory? memory = null, PoolLimits? limits = null, decimal spent = 0, DateTimeOffset? now = null) =>
        new(now ?? Noon, instances.ToList(), queues ?? Queues(), 5.5, spent, limits ?? new PoolLimits(), memory ?? new PoolMemory { PrimaryId = "p" });
}
