using Orleans.Concurrency;
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

    /// <summary>A GPU host on silo <paramref name="siloId"/> is up without models (started warm,
    /// or stopped): the instance is WARM, held by that silo.</summary>
    Task<InstanceSnapshot> HostWarmAsync(string siloId);

    /// <summary>COLD → WARM through <paramref name="provider"/>: the operation starts and the
    /// instance is pending until <see cref="PollAsync"/> sees it done; with
    /// <paramref name="resumeWhenWarm"/> it goes on to HOT. Rates come from the provider's price
    /// list. Throws the provider's error when it refuses (e.g. none available).</summary>
    Task<InstanceSnapshot> RentAsync(string gpuType, string provider, bool resumeWhenWarm, string reason);

    /// <summary>WARM → HOT (load the models).</summary>
    Task<InstanceSnapshot> ResumeAsync(string reason);

    /// <summary>HOT → WARM (drain, unload).</summary>
    Task<InstanceSnapshot> StopAsync(string reason);

    /// <summary>WARM → COLD (give the lease back).</summary>
    Task<InstanceSnapshot> ReleaseAsync(string reason);

    /// <summary>Asks the provider where the instance is: settles a finished operation (measuring
    /// how long it took), retries a failed one (up to 3 tries), gives up on one past its time-out,
    /// and notices an instance that is gone (marked down, COLD).</summary>
    Task<InstanceSnapshot> PollAsync();

    [ReadOnly]
    Task<InstanceSnapshot> GetAsync();
}
