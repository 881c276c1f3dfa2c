using Actors.Fleet.Providers;
using Actors.Grains.Instances;
using Actors.Grains.Tenants;

namespace Actors.Fleet.Policies;

/// <summary>An instance as a policy sees it. <see cref="State"/> is where it settled;
/// <see cref="Pending"/> the state an operation in flight is taking it to (WARM while renting or
/// stopping, HOT while resuming, COLD while releasing), null when none is.</summary>
public sealed record InstanceView(string Id, string GpuType, InstanceState State, DateTimeOffset Since, decimal HotPerHour, decimal WarmPerHour)
{
    public InstanceState? Pending { get; init; }

    public InstanceHealth Health { get; init; } = InstanceHealth.Ok;

    /// <summary>Running, or on its way to running (resuming).</summary>
    public bool Active => Pending == InstanceState.Hot || (State is InstanceState.Hot or InstanceState.Serving && Pending is null);

    /// <summary>Rented, stopped and idle: a standby that can be resumed now.</summary>
    public bool WarmIdle => State == InstanceState.Warm && Pending is null;

    public bool Renting => State == InstanceState.Cold && Pending == InstanceState.Warm;

    /// <summary>Held (rented or being rented, or launched on a provider that cannot stop): counts
    /// against the operator's maximum.</summary>
    public bool Rented => State != InstanceState.Cold || Pending is InstanceState.Warm or InstanceState.Hot;

    /// <summary>What it costs per hour now: hot while running or starting, warm while held.</summary>
    public decimal CurrentPerHour =>
        State is InstanceState.Hot or InstanceState.Serving || Pending == InstanceState.Hot ? HotPerHour
        : Rented ? WarmPerHour : 0m;
}

/// <summary>One tier's queue: waiting jobs, how long the oldest has waited, and the measured
/// arrival rate (jobs per second, a moving average).</summary>
public sealed record TierQueue(int Depth, double OldestWaitSeconds, double ArrivalPerSecond);

/// <summary>Operator limits that no policy may cross (see <see cref="LimitedPolicy"/>).</summary>
public sealed record PoolLimits
{
    public int MinHot { get; init; } = 1;

    public int MaxInstances { get; init; } = 8;

    /// <summary>Spend per UTC day (all instances, all states) that is never to be exceeded;
    /// null for none.</summary>
    public decimal? DailyBudgetUsd { get; init; }
}

/// <summary>What a policy remembers between decisions (kept in the pool's state, so the policy
/// itself stays a pure function).</summary>
public sealed record PoolMemory
{
    public string? PrimaryId { get; init; }

    /// <summary>Seed rule: since when the queue has been under 3.</summary>
    public DateTimeOffset? QuietSince { get; init; }

    /// <summary>SLO policy: since when fewer instances would have done.</summary>
    public DateTimeOffset? SurplusSince { get; init; }

    /// <summary>SLO policy: the most instances needed in each of the last 24 hours (index = hour
    /// of day, UTC), to keep that many held WARM ahead of the next peak.</summary>
    public int[] NeededByHour { get; init; } = new int[24];

    public int NeededHour { get; init; } = -1;

    /// <summary>Rent refused ("unavailable") until then; no rent is tried before.</summary>
    public DateTimeOffset? RentBackoffUntil { get; init; }

    /// <summary>Forecast policy: the learned arrival profile (<see cref="DemandProfile"/>).</summary>
    public DemandProfile Profile { get; init; } = new();
}

/// <summary>Everything a policy decides from.</summary>
public sealed record PoolSnapshot(
    DateTimeOffset Now,
    IReadOnlyList<InstanceView> Instances,
    IReadOnlyDictionary<Tier, TierQueue> Queues,
    double ServiceSecondsPerJob,
    decimal SpentTodayUsd,
    PoolLimits Limits,
    PoolMemory Memory)
{
    /// <summary>The GPU type new instances are rented as.</summary>
    public string GpuType { get; init; } = "rtx-4090-spot";

    public IReadOnlyList<GpuOffer> PriceList { get; init; } = SimulatedProviderOptions.DefaultPriceList;

    /// <summary>When the last job arrived (any tier); null when unknown.</summary>
    public DateTimeOffset? LastArrivalAt { get; init; }

    /// <summary>What the pool's provider can do: where it cannot stop, a policy's stop becomes a
    /// release and no WARM standby is kept (<see cref="LimitedPolicy"/>).</summary>
    public ProviderCapabilities Capabilities { get; init; } = ProviderCapabilities.Stoppable(TimeSpan.FromMinutes(45), spot: true);

    public int QueueDepth => Queues.Values.Sum(q => q.Depth);

    public TierQueue Queue(Tier tier) => Queues.GetValueOrDefault(tier) ?? new TierQueue(0, 0, 0);

    public GpuOffer Offer(string gpuType) =>
        PriceList.FirstOrDefault(o => o.GpuType == gpuType) ?? new GpuOffer(gpuType, 0, 0, false);

    public decimal CurrentPerHour => Instances.Sum(i => i.CurrentPerHour);

    /// <summary>Hours left in the current UTC day.</summary>
    public double HoursLeftToday => (Now.UtcDateTime.Date.AddDays(1) - Now.UtcDateTime).TotalHours;
}
