using Actors.Fleet.Providers.Lambda;
using Actors.Fleet.Providers.RunPod;
using Actors.Fleet.Providers.Vast;

namespace Actors.Silo.Fleet;

/// <summary>Section "Providers": the GPU clouds this cluster rents from (each its own section,
/// "Providers:RunPod", "Providers:Vast", "Providers:Lambda", off unless Enabled) and what their
/// machines run: <see cref="Image"/> (docker/gpu-silo.Dockerfile, pushed where the clouds can pull
/// it) with this silo's cluster settings (<see cref="ForwardClusterSettings"/>) overlaid by
/// <see cref="Environment"/> — the addresses, TLS and passwords a machine outside this network
/// needs (docs/fleet.md).</summary>
public sealed class CloudsOptions
{
    public const string Section = "Providers";

    public string Image { get; set; } = "";

    /// <summary>Pass this silo's Cluster/Blobs/Inference/Api/Billing/Logging settings to machines.</summary>
    public bool ForwardClusterSettings { get; set; } = true;

    /// <summary>Environment for every machine (wins over forwarded settings), e.g.
    /// <c>Cluster__Redis</c> = "redis.example.net:6380,ssl=true,password=…".</summary>
    public Dictionary<string, string> Environment { get; set; } = [];

    /// <summary>How often the control silo reads offers and reconciles each cloud's machines.</summary>
    public double ReconcileSeconds { get; set; } = 60;

    public RunPodOptions RunPod { get; set; } = new();

    public VastOptions Vast { get; set; } = new();

    public LambdaCloudOptions Lambda { get; set; } = new();
}
