namespace Actors.Grains.Instances;

/// <summary>One GPU instance (key: instance id).</summary>
public interface IInstanceGrain : IGrainWithStringKey
{
    /// <summary>Sets the GPU type and per-state rates (cost accrued so far is kept).</summary>
    Task<InstanceSnapshot> ConfigureAsync(string gpuType, HourlyRates rates);

    /// <summary>Moves to <paramref name="target"/>; <see cref="InvalidTransitionException"/> if not allowed.</summary>
    Task<InstanceSnapshot> TransitionAsync(InstanceState target);

    Task<InstanceSnapshot> GetAsync();
}
