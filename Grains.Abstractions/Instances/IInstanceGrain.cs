namespace Actors.Grains.Instances;

/// <summary>One GPU instance (key: instance id).</summary>
public interface IInstanceGrain : IGrainWithStringKey
{
    /// <summary>Sets the GPU type and per-state rates (cost accrued so far is kept).</summary>
    Task<InstanceSnapshot> ConfigureAsync(string gpuType, HourlyRates rates);

    /// <summary>Moves to <paramref name="target"/>; <see cref="InvalidTransitionException"/> if not allowed.</summary>
    Task<InstanceSnapshot> TransitionAsync(InstanceState target);

    /// <summary>A GPU host on silo <paramref name="siloId"/> has loaded <paramref name="models"/>:
    /// the instance moves (through WARM) to HOT, health ok.</summary>
    Task<InstanceSnapshot> HostReadyAsync(string siloId, string[] models);

    /// <summary>The host is running jobs (SERVING) or idle (HOT); ignored from another silo.</summary>
    Task<InstanceSnapshot> ReportBusyAsync(string siloId, bool busy);

    /// <summary>The host stopped: cleanly (drained) or lost (its silo was declared dead). The
    /// instance goes back to WARM — still rented, nothing running — and a lost one is marked down.</summary>
    Task<InstanceSnapshot> HostStoppedAsync(string siloId, string? lostReason);

    [ReadOnly]
    Task<InstanceSnapshot> GetAsync();
}
