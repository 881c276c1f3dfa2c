using Microsoft.Extensions.DependencyInjection;
using Orleans.Placement;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.Runtime.Placement;

namespace Actors.Grains.Hosting;

/// <summary>Places an instance grain on the GPU-host silo that serves that instance (the silo whose
/// metadata names it), so its state lives beside the GPU it describes; with no such silo alive, on
/// a control silo, never on an API-only one unless nothing else is up.</summary>
[GenerateSerializer, Immutable, SuppressReferenceTracking]
public sealed class GpuHostPlacement : PlacementStrategy
{
    public static readonly GpuHostPlacement Instance = new();
}

/// <summary>Marks a grain keyed by instance id for <see cref="GpuHostPlacement"/>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class GpuHostPlacementAttribute : PlacementAttribute
{
    public GpuHostPlacementAttribute()
        : base(GpuHostPlacement.Instance)
    {
    }
}

/// <summary>Places a grain on a silo with the control role (the control plane: providers, the pool).</summary>
[GenerateSerializer, Immutable, SuppressReferenceTracking]
public sealed class ControlPlacement : PlacementStrategy
{
    public static readonly ControlPlacement Instance = new();
}

[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class ControlPlacementAttribute : PlacementAttribute
{
    public ControlPlacementAttribute()
        : base(ControlPlacement.Instance)
    {
    }
}

/// <summary>Metadata keys silos publish about themselves (Orleans silo metadata).</summary>
public static class SiloMetadataKeys
{
    public const string Roles = "actors.roles";
    public const string Instance = "actors.instance";
    public const string Http = "actors.http";
    public const string Process = "actors.pid";
}

/// <summary>Chooses the silo for a <see cref="GpuHostPlacement"/> or <see cref="ControlPlacement"/>
/// grain from the silos' metadata.</summary>
public sealed class GpuHostPlacementDirector(IServiceProvider services) : IPlacementDirector
{
    private static readonly IReadOnlyDictionary<string, string> NoMetadata = new Dictionary<string, string>();

    // Silos that publish no metadata (a test silo) leave every silo a candidate.
    private readonly ISiloMetadataCache? _metadata = services.GetService<ISiloMetadataCache>();

    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var silos = context.GetCompatibleSilos(target);
        var instanceId = target.GrainIdentity.Key.ToString();
        var data = silos.Select(s => (Silo: s, Data: _metadata?.GetSiloMetadata(s).Metadata ?? NoMetadata)).ToList();
        var roles = (IReadOnlyDictionary<string, string> d) => d.GetValueOrDefault(SiloMetadataKeys.Roles, "").Split(',');
        var chosen = (strategy is GpuHostPlacement ? data.Where(x => x.Data.GetValueOrDefault(SiloMetadataKeys.Instance) == instanceId).Select(x => x.Silo).FirstOrDefault() : null)
            ?? Prefer(data.Where(x => roles(x.Data).Contains("control")).Select(x => x.Silo).ToList(), context.LocalSilo)
            ?? Prefer(data.Where(x => roles(x.Data) is not ["api"]).Select(x => x.Silo).ToList(), context.LocalSilo)
            ?? Prefer(silos, context.LocalSilo)
            ?? throw new OrleansException($"no silo can host instance grain {instanceId}");
        return Task.FromResult(chosen);
    }

    private static SiloAddress? Prefer(IReadOnlyList<SiloAddress> silos, SiloAddress local) =>
        silos.Count == 0 ? null : silos.Contains(local) ? local : silos[Random.Shared.Next(silos.Count)];
}
