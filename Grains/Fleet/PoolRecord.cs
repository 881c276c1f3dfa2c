using Actors.Fleet.Policies;
using Actors.Grains.Tenants;

namespace Actors.Grains.Fleet;

/// <summary>PoolGrain's stored state.</summary>
public sealed record PoolRecord
{
    public PoolSettings? Settings { get; init; }

    public PoolMemory Memory { get; init; } = new();

    /// <summary>The forecast policy's last view (null under another policy).</summary>
    public PoolForecast? Forecast { get; init; }

    public DateTimeOffset? LastTick { get; init; }

    /// <summary>Instances are named i-001, i-002, … in the order they were rented.</summary>
    public int Rented { get; init; }

    public List<PoolEvent> Recent { get; init; } = [];

    public List<PoolEvent> Alerts { get; init; } = [];

    public Dictionary<Tier, DateTimeOffset> RefusingUntil { get; init; } = [];

    /// <summary>The UTC day being counted, and what the fleet had accrued when it began.</summary>
    public DateOnly Day { get; init; }

    public decimal AccruedAtDayStart { get; init; }

    public decimal SpentTodayUsd { get; init; }

    public decimal CurrentPerHour { get; init; }

    /// <summary>Measured seconds of SERVING per job (the SLO policy's service time).</summary>
    public ServiceTime Service { get; init; } = new();

    /// <summary>Each instance's total SERVING seconds at the last tick (to take differences).</summary>
    public Dictionary<string, double> ServingSeconds { get; init; } = [];

    /// <summary>Providers backing off after no capacity or failed rents: provider → (failures, until).</summary>
    public Dictionary<string, OfferBackoff> Backoff { get; init; } = [];

    /// <summary>Instances whose failed rent or loss has been counted against their provider.</summary>
    public List<string> CountedFailures { get; init; } = [];
}

/// <summary>A provider the pool skips until <see cref="Until"/>, after <see cref="Failures"/> in a row.</summary>
[GenerateSerializer(GenerateFieldIds = GenerateFieldIds.PublicProperties)]
public sealed record OfferBackoff(int Failures, DateTimeOffset Until, string LastReason);
