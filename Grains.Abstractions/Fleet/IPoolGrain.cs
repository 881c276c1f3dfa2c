using Orleans.Concurrency;
using Actors.Grains.Tenants;

namespace Actors.Grains.Fleet;

/// <summary>The autoscaler (key "default"): on a reminder it looks at the instances and the queues,
/// asks its policy what to do, and tells the instance grains. Operators set its limits.</summary>
public interface IPoolGrain : IGrainWithStringKey, IRemindable
{
    /// <summary>The one pool's key.</summary>
    const string Key = "default";

    /// <summary>Registers the tick reminder (idempotent) and applies <paramref name="defaults"/>
    /// if the pool has never been configured.</summary>
    Task<PoolView> StartAsync(TimeSpan tick, PoolSettings defaults);

    /// <summary>Sets autoscaling on/off, the policy and the operator's limits.</summary>
    Task<PoolView> ConfigureAsync(PoolSettings settings);

    /// <summary>One decision now (what the reminder runs).</summary>
    Task<PoolView> TickAsync();

    [ReadOnly]
    Task<PoolView> GetAsync();
}

/// <summary>Operator settings. <see cref="Policy"/>: "seed" or "slo", or either with "-by-load"
/// (rent the GPU type seed 000 picks for the measured load).</summary>
[GenerateSerializer(GenerateFieldIds = GenerateFieldIds.PublicProperties), Immutable]
public sealed record PoolSettings([Id(1739429234U)] bool Autoscale, [Id(2285693678U)] string Policy, [Id(3366696356U)] int MinHot, [Id(2990456488U)] int MaxInstances, [Id(1448532660U)] decimal? DailyBudgetUsd, [Id(3999439496U)] string GpuType, [Id(1902754178U)] string Provider)
{
    public static readonly string[] Policies = ["seed", "slo", "seed-by-load", "slo-by-load", "forecast", "forecast-by-load"];

    /// <summary>Where a rent goes, in order: the first offer not backing off, within its own max
    /// $/h and the pool's, that the cloud can fill (none: <see cref="Provider"/> and <see cref="GpuType"/>).</summary>
    [Id(3677081594U)]
    public IReadOnlyList<PoolOffer> Offers { get; init; } = [];

    /// <summary>The pool's running cost never goes above this $/h: a rent that would is not made.</summary>
    [Id(2537801001U)]
    public decimal? MaxPerHourUsd { get; init; }

    /// <summary>What is wrong with these settings, or null.</summary>
    public string? Problem() =>
        !Policies.Contains(Policy) ? $"policy must be one of {string.Join(", ", Policies)}"
        : MinHot < 0 ? "minHot cannot be negative"
        : MaxInstances < 1 ? "maxInstances must be at least 1"
        : MinHot > MaxInstances ? $"minHot ({MinHot}) cannot be above maxInstances ({MaxInstances})"
        : DailyBudgetUsd < 0 ? "dailyBudgetUsd cannot be negative"
        : string.IsNullOrWhiteSpace(GpuType) ? "gpuType is required"
        : string.IsNullOrWhiteSpace(Provider) ? "provider is required"
        : MaxPerHourUsd < 0 ? "maxPerHourUsd cannot be negative"
        : Offers.Any(o => string.IsNullOrWhiteSpace(o.Provider) || string.IsNullOrWhiteSpace(o.GpuType)) ? "every offer needs a provider and a gpuType"
        : Offers.Any(o => o.MaxPerHour < 0) ? "an offer's maxPerHour cannot be negative"
        : null;

    public override string ToString() =>
        $"{(Autoscale ? "autoscale" : "manual")} {Policy}, min HOT {MinHot}, max {MaxInstances}, budget {(DailyBudgetUsd is { } b ? $"${b}/day" : "none")}, "
        + (Offers.Count > 0 ? $"offers [{string.Join(" → ", Offers)}]" : $"{Provider}/{GpuType}") + (MaxPerHourUsd is { } m ? $", max ${m}/h" : "");
}

/// <summary>One line of a pool's ordered offers: a provider ("runpod-spot", "vast", "lambda", …),
/// its GPU type in that cloud's naming, and the most this line may cost an hour.</summary>
[GenerateSerializer(GenerateFieldIds = GenerateFieldIds.PublicProperties), Immutable]
public sealed record PoolOffer([Id(1902754178U)] string Provider, [Id(3999439496U)] string GpuType, [Id(3233418348U)] decimal? MaxPerHour = null)
{
    public override string ToString() => $"{Provider}/{GpuType}{(MaxPerHour is { } m ? $" ≤ ${m}/h" : "")}";
}

/// <summary>One thing the pool did (or could not do), and why.</summary>
[GenerateSerializer(GenerateFieldIds = GenerateFieldIds.PublicProperties), Immutable]
public sealed record PoolEvent([Id(3120412540U)] DateTimeOffset At, [Id(965224883U)] string Kind, [Id(3607129399U)] string? InstanceId, [Id(441862051U)] string Reason, [Id(2200439881U)] string? Error = null);

/// <summary>The pool as operators see it.</summary>
[GenerateSerializer(GenerateFieldIds = GenerateFieldIds.PublicProperties), Immutable]
public sealed record PoolView(
    [Id(968005538U)] PoolSettings Settings,
    [Id(152459759U)] DateTimeOffset? LastTick,
    [Id(3211845309U)] decimal SpentTodayUsd,
    [Id(3311213028U)] decimal CurrentPerHour,
    [Id(1559917306U)] IReadOnlyList<PoolEvent> Recent,
    [Id(4289062138U)] IReadOnlyList<PoolEvent> Alerts,
    [Id(3166736066U)] IReadOnlyDictionary<Tier, DateTimeOffset> RefusingUntil)
{
    public bool Refusing(Tier tier, DateTimeOffset now) => RefusingUntil.TryGetValue(tier, out var until) && until > now;

    /// <summary>The service time the SLO policy plans with: seconds SERVING per job.</summary>
    [Id(1999656527U)]
    public double ServiceSecondsPerJob { get; init; }

    /// <summary>Jobs behind <see cref="ServiceSecondsPerJob"/>; 0 while it is still the configured value.</summary>
    [Id(238742330U)]
    public long ServiceMeasuredJobs { get; init; }

    /// <summary>Providers the pool skips for now: provider → until when, after how many failures, why.</summary>
    [Id(4092203142U)]
    public IReadOnlyDictionary<string, string> BackingOff { get; init; } = new Dictionary<string, string>();

    /// <summary>What the forecast policy expects (null under another policy, or before its first tick).</summary>
    [Id(5001U)]
    public PoolForecast? Forecast { get; init; }
}

/// <summary>The forecast policy's view for operators: expected jobs per hour for the next 24
/// hours from now (null where that hour is not yet learned), the hours of the day (UTC) it may
/// hold no HOT instance, whether a whole day and a whole week are learned, the HOT instances the
/// forecast wants within a resume, and whether this is a quiet hour now.</summary>
[GenerateSerializer(GenerateFieldIds = GenerateFieldIds.PublicProperties), Immutable]
public sealed record PoolForecast(
    [Id(1U)] IReadOnlyList<double?> NextHoursJobsPerHour,
    [Id(2U)] IReadOnlyList<int> QuietHoursUtc,
    [Id(3U)] bool KnowsDay,
    [Id(4U)] bool KnowsWeek,
    [Id(5U)] int? HotAhead,
    [Id(6U)] bool QuietNow);
