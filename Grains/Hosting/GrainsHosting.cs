using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Actors.Grains.Hosting;

/// <summary>What our grains need from the silo beyond their services.</summary>
public static class GrainsHosting
{
    public static ISiloBuilder AddActorsGrains(this ISiloBuilder silo)
    {
        ArgumentNullException.ThrowIfNull(silo);
        silo.AddPlacementDirector<GpuHostPlacement, GpuHostPlacementDirector>();
        silo.AddPlacementDirector<ControlPlacement, GpuHostPlacementDirector>();
        silo.AddIncomingGrainCallFilter<GrainCallMetrics>();
        silo.AddIncomingGrainCallFilter<DropStateOnFailedCall>();
        silo.Services.AddOptions<FaultOptions>().BindConfiguration(FaultOptions.Section);
        silo.Services.TryAddSingleton<CrashPoints>();
        return silo;
    }
}
