using Actors.Grains.Tenants;

namespace Actors.Fleet.Simulation;

public sealed record SimulationOptions
{
    /// <summary>Mean service time of one job on one instance, seconds (batching included).</summary>
    public double ServiceSeconds { get; init; } = 5.5;

    /// <summary>Coefficient of variation of service times (log-normal); Erlang C assumes 1.</summary>
    public double ServiceCv { get; init; } = 0.5;

    /// <summary>How often the policy decides (the pool grain's reminder period).</summary>
    public TimeSpan Tick { get; init; } = TimeSpan.FromSeconds(15);

    public Policies.PoolLimits Limits { get; init; } = new();

    public Providers.SimulatedProviderOptions Provider { get; init; } = new();

    public string GpuType { get; init; } = "rtx-4090-spot";

    public TimeSpan SampleEvery { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Free jobs waiting longer expire (the Free plan's max wait, seed 003: 5 min).</summary>
    public double FreeMaxWaitSeconds { get; init; } = 300;

    /// <summary>The fleet at the start (seed 003's growth setup: one HOT primary, one WARM standby).</summary>
    public int InitialHot { get; init; } = 1;

    public int InitialWarm { get; init; } = 1;

    public DateTimeOffset Start { get; init; } = new(2026, 1, 5, 0, 0, 0, TimeSpan.Zero);

    public int Seed { get; init; } = 7;

    /// <summary>Tiers whose jobs run only on on-demand (not preemptible) machines.</summary>
    public IReadOnlySet<Tier> OnDemandTiers { get; init; } = new HashSet<Tier>();
}

public sealed record TierStats(Tier Tier, int Arrived, int Served, int Refused, int Expired, double P50Seconds, double P95Seconds, double P99Seconds, double MaxSeconds)
{
    /// <summary>Jobs served that arrived with no instance running (scale to zero): they waited for a start.</summary>
    public int FromZero { get; init; }

    public double FromZeroP50Seconds { get; init; }

    public double FromZeroMaxSeconds { get; init; }

    /// <summary>Jobs served on spot (preemptible) machines.</summary>
    public int OnSpot { get; init; }
}

/// <summary>One point of the timeline: hours since the start, jobs waiting, instances by state,
/// cost so far.</summary>
public sealed record Sample(double Hours, int QueueDepth, int Renting, int Warm, int Starting, int Hot, int Serving, decimal CostUsd);

public sealed record SimulationResult(
    string Policy,
    double Days,
    decimal TotalCostUsd,
    IReadOnlyList<TierStats> Tiers,
    IReadOnlyDictionary<string, double> InstanceHours,
    IReadOnlyDictionary<string, int> Actions,
    IReadOnlyList<Sample> Timeline)
{
    public int Served => Tiers.Sum(t => t.Served);

    public decimal CostPerJobUsd => Served == 0 ? 0 : TotalCostUsd / Served;

    public int MaxInstances { get; init; }

    public decimal MaxDailySpendUsd { get; init; }

    public long Events { get; init; }

    public TimeSpan WallTime { get; init; }

    /// <summary>Seconds of work done on jobs whose instance stopped or was preempted under them (run again).</summary>
    public double LostWorkSeconds { get; init; }

    public TierStats Tier(Tier tier) => Tiers.First(t => t.Tier == tier);
}
