using Actors.Fleet.Providers.Cloud;

namespace Actors.Fleet.Providers.Vast;

/// <summary>Section "Providers:Vast": Vast.ai's API (<c>{BaseUrl}/v0/…</c>; the instance list is
/// <c>{BaseUrl}/v1/instances/</c>).</summary>
public sealed class VastOptions : CloudApiOptions
{
    public const string SectionName = "Providers:Vast";

    public override string BaseUrl { get; set; } = "https://console.vast.ai/api";

    /// <summary>Disk per instance, GB (priced into dph_total; billed while stopped).</summary>
    public int DiskGb { get; set; } = 32;

    public int GpuCount { get; set; } = 1;

    /// <summary>Only verified hosts with at least this reliability.</summary>
    public double MinReliability { get; set; } = 0.98;

    /// <summary>Offers read per search.</summary>
    public int OffersRead { get; set; } = 64;

    /// <summary>Multiplies Vast's documented per-endpoint intervals (1 = as documented; tests use less).</summary>
    public double EndpointIntervalScale { get; set; } = 1;

    protected override string Section => SectionName;

    public VastOptions() => RequestIntervalSeconds = 0; // Vast paces per endpoint (VastClient.Intervals)
}
