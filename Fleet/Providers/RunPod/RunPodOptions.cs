using Actors.Fleet.Providers.Cloud;

namespace Actors.Fleet.Providers.RunPod;

/// <summary>Section "Providers:RunPod": RunPod's GraphQL API (<c>{BaseUrl}/graphql</c>) and REST v2
/// (<c>{BaseUrl}/v2</c>), one key for both.</summary>
public sealed class RunPodOptions : CloudApiOptions
{
    public const string SectionName = "Providers:RunPod";

    public override string BaseUrl { get; set; } = "https://api.runpod.io";

    /// <summary>SECURE or COMMUNITY (what prices and stock are read for).</summary>
    public string CloudType { get; set; } = "SECURE";

    public int GpuCount { get; set; } = 1;

    /// <summary>The container disk (wiped on stop).</summary>
    public int ContainerDiskGb { get; set; } = 30;

    /// <summary>The volume kept while stopped (billed then: <see cref="StoppedVolumeUsdPerGbMonth"/>).</summary>
    public int VolumeGb { get; set; } = 20;

    /// <summary>RunPod's price for a stopped pod's volume ($0.20/GB/month on its pricing page).</summary>
    public decimal StoppedVolumeUsdPerGbMonth { get; set; } = 0.20m;

    /// <summary>Ports the pod exposes ("8080/http" for the silo's HTTP; the silo ports for Orleans).</summary>
    public string Ports { get; set; } = "8080/http,11111/tcp,30000/tcp";

    protected override string Section => SectionName;

    /// <summary>$/h a stopped pod still costs: its volume.</summary>
    public decimal StoppedPerHour => Math.Round(VolumeGb * StoppedVolumeUsdPerGbMonth / 730m, 4);
}
