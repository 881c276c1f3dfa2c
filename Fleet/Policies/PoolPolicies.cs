using Actors.Grains.Fleet;

namespace Actors.Fleet.Policies;

/// <summary>The policies by the names operators and <c>silo simulate</c> use (<see cref="PoolSettings.Policies"/>):
/// "seed", "slo", "forecast", and each with "-by-load" (seed 000's GPU type for the measured load).</summary>
public static class PoolPolicies
{
    /// <summary>The named policy within the operator's limits; null for an unknown name.</summary>
    /// <param name="onDemandTiers">Tiers that must not run on spot machines: the forecast policy holds
    /// on-demand capacity for them (the seed and SLO policies do not know the difference).</param>
    public static IPoolPolicy? Create(string name, TimeSpan? quietFor = null, TimeSpan? scaleInAfter = null, IReadOnlySet<Grains.Tenants.Tier>? onDemandTiers = null)
    {
        var normalized = name.Trim().ToLowerInvariant();
        if (!PoolSettings.Policies.Contains(normalized))
        {
            return null;
        }

        IPoolPolicy policy = normalized.StartsWith("slo", StringComparison.Ordinal)
            ? new SloPolicy(scaleInAfter is { } after ? new SloPolicyOptions { ScaleInAfter = after } : null)
            : normalized.StartsWith("forecast", StringComparison.Ordinal)
                ? new ForecastPolicy(new ForecastPolicyOptions { OnDemandTiers = onDemandTiers ?? new HashSet<Grains.Tenants.Tier>() } is var f && scaleInAfter is { } later ? f with { ScaleInAfter = later } : f)
                : new SeedPolicy(quietFor);
        return new LimitedPolicy(normalized.EndsWith("-by-load", StringComparison.Ordinal) ? new GpuByLoadPolicy(policy) : policy);
    }
}

