using Actors.Runtime;
using Actors.Grains;

namespace Actors.Grains.Instances;

public sealed class InstanceGrain(IPersistentState<InstanceRecord> state, TimeProvider time) : Grain, IInstanceGrain
{
    public async Task<InstanceSnapshot> ConfigureAsync(string gpuType, HourlyRates rates)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(gpuType);
        if (rates.Cold < 0 || rates.Warm < 0 || rates.Hot < 0 || rates.Serving < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(rates), "hourly rates cannot be negative");
        }

        var now = time.GetUtcNow();
        state.State = InstanceLifecycle.Close(state.State, now) with { GpuType = gpuType, Rates = rates };
        await state.WriteStateAsync();
        return InstanceLifecycle.Snapshot(GrainKey, state.State, now);
    }

    public async Task<InstanceSnapshot> TransitionAsync(InstanceState target)
    {
        var now = time.GetUtcNow();
        state.State = InstanceLifecycle.Move(state.State, target, now);
        await state.WriteStateAsync();
        return InstanceLifecycle.Snapshot(GrainKey, state.State, now);
    }

    public Task<InstanceSnapshot> GetAsync() => Task.FromResult(InstanceLifecycle.Snapshot(GrainKey, state.State, time.GetUtcNow()));
}
