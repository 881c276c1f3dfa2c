using Actors.Fleet.Policies;

namespace Actors.Grains.Fleet;

/// <summary>Section "Fleet": the pool's defaults (operators change them at run time through
/// <see cref="IPoolGrain.ConfigureAsync"/>) and the timings its policies use.</summary>
public sealed class PoolOptions
{
    public const string Section = "Fleet";

    /// <summary>Run the pool's reminder on control silos: it settles provider operations (an
    /// operator's stop or resume too) and, with <see cref="Autoscale"/>, scales.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Whether the pool scales at first start (operators turn it on and off at run time).</summary>
    public bool Autoscale { get; set; }

    public string Policy { get; set; } = "seed";

    /// <summary>"local" (GPU-host processes on this machine) or "simulated".</summary>
    public string Provider { get; set; } = "local";

    public string GpuType { get; set; } = "local";

    public int MinHot { get; set; } = 1;

    public int MaxInstances { get; set; } = 4;

    public decimal? DailyBudgetUsd { get; set; }

    public double TickSeconds { get; set; } = 5;

    /// <summary>Seed rule "queue &lt; 3 for 30 min": shortened for demos and tests.</summary>
    public double QuietMinutes { get; set; } = 30;

    /// <summary>SLO policy: scale in after fewer instances would have done this long.</summary>
    public double ScaleInMinutes { get; set; } = 15;

    /// <summary>Seconds of GPU time per job (the SLO policy's service time), until measured.</summary>
    public double ServiceSecondsPerJob { get; set; } = 0.5;

    /// <summary>Window over which arrival rates are measured.</summary>
    public double ArrivalWindowSeconds { get; set; } = 300;

    /// <summary>The ordered offers a rent tries (Fleet:Offers:0:Provider, …:GpuType, …:MaxPerHour).</summary>
    public List<PoolOfferOption> Offers { get; set; } = [];

    /// <summary>The pool's cap on its running cost, $/h.</summary>
    public decimal? MaxPerHourUsd { get; set; }

    /// <summary>An offer that had no capacity or whose rent failed is skipped this long, doubled per
    /// further failure (at most 15 minutes).</summary>
    public double OfferBackoffSeconds { get; set; } = 30;

    public PoolSettings Defaults() => new(Autoscale, Policy, MinHot, MaxInstances, DailyBudgetUsd, GpuType, Provider)
    {
        Offers = [.. Offers.Select(o => new PoolOffer(o.Provider, o.GpuType, o.MaxPerHour))],
        MaxPerHourUsd = MaxPerHourUsd,
    };

    /// <summary>"seed" or "slo", optionally "-by-load" (GPU type per seed 000's load rule), inside
    /// the operator's limits.</summary>
    public IPoolPolicy CreatePolicy(string name) =>
        PoolPolicies.Create(name, TimeSpan.FromMinutes(QuietMinutes), TimeSpan.FromMinutes(ScaleInMinutes))
        ?? throw new ArgumentException($"unknown policy '{name}' ({string.Join(", ", PoolSettings.Policies)})", nameof(name));
}

/// <summary>One configured offer (bound from configuration).</summary>
public sealed class PoolOfferOption
{
    public string Provider { get; set; } = "";

    public string GpuType { get; set; } = "";

    public decimal? MaxPerHour { get; set; }
}
