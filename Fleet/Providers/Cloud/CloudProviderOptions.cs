namespace Actors.Fleet.Providers.Cloud;

/// <summary>How one provider rents from a cloud: spot or on demand, which regions, the most it
/// pays an hour, and what the machines run (<see cref="Image"/> with <see cref="Environment"/>
/// plus the instance id — docs/fleet.md).</summary>
public sealed class CloudProviderOptions
{
    /// <summary>The provider's name (default: the cloud's, with "-spot" for spot).</summary>
    public string? Name { get; init; }

    public bool Spot { get; init; }

    /// <summary>Regions (Lambda regions, RunPod data centers, Vast country codes) to rent in; none: any.</summary>
    public IReadOnlyList<string> Regions { get; init; } = [];

    /// <summary>Offers dearer than this are never rented (and no bid goes above it).</summary>
    public decimal? MaxPerHour { get; init; }

    /// <summary>A spot bid is the offer's minimum bid plus this fraction.</summary>
    public decimal BidMargin { get; init; } = 0.1m;

    /// <summary>Offers tried by one rent before it says "unavailable".</summary>
    public int OffersTried { get; init; } = 3;

    public double OffersMaxAgeSeconds { get; init; } = 60;

    /// <summary>A machine whose silo joined and then went silent this long is lost.</summary>
    public double LostAfterSeconds { get; init; } = 10;

    /// <summary>The rent's ETA (default: the cloud's typical time to ready); twice it plus 30 s and
    /// a machine that has not joined is released, a failed rent.</summary>
    public double? ReadySeconds { get; init; }

    /// <summary>Reconciliation leaves a machine alone this long after its launch began.</summary>
    public double LaunchGraceMinutes { get; init; } = 5;

    /// <summary>Our GPU-host silo image (docker/gpu-silo.Dockerfile, pushed where the cloud can pull it).</summary>
    public string Image { get; init; } = "";

    /// <summary>The cluster's settings for the GPU-host silo (Redis, PostgreSQL, object store, …).</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    public CloudStartup Startup(string instanceId) =>
        new(Image, new Dictionary<string, string>(Environment, StringComparer.Ordinal) { ["Cluster__InstanceId"] = instanceId, ["Cluster__Roles"] = "gpu" });
}
