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

    public async Task<InstanceSnapshot> HostReadyAsync(string siloId, string[] models)
    {
        ArgumentException.ThrowIfNullOrEmpty(siloId);
        var now = time.GetUtcNow();
        var moved = InstanceLifecycle.MoveTo(state.State, InstanceState.Hot, now);
        state.State = moved with { HostSiloId = siloId, Models = [.. models.Order(StringComparer.Ordinal)], Health = InstanceHealth.Ok, HealthReason = null };
        await state.WriteStateAsync();
        return InstanceLifecycle.Snapshot(GrainKey, state.State, now);
    }

    public async Task<InstanceSnapshot> ReportBusyAsync(string siloId, bool busy)
    {
        var now = time.GetUtcNow();
        var target = busy ? InstanceState.Serving : InstanceState.Hot;
        if (state.State.HostSiloId == siloId && state.State.State is InstanceState.Hot or InstanceState.Serving && state.State.State != target)
        {
            state.State = InstanceLifecycle.Move(state.State, target, now);
            await state.WriteStateAsync();
        }

        return InstanceLifecycle.Snapshot(GrainKey, state.State, now);
    }

    public async Task<InstanceSnapshot> HostStoppedAsync(string siloId, string? lostReason)
    {
        var now = time.GetUtcNow();
        if (state.State.HostSiloId == siloId)
        {
            var moved = state.State.State is InstanceState.Hot or InstanceState.Serving
                ? InstanceLifecycle.MoveTo(state.State, InstanceState.Warm, now)
                : state.State;
            state.State = moved with
            {
                HostSiloId = null,
                Health = lostReason is null ? InstanceHealth.Ok : InstanceHealth.Down,
                HealthReason = lostReason,
            };
            await state.WriteStateAsync();
        }

        return InstanceLifecycle.Snapshot(GrainKey, state.State, now);
    }

    public Task<InstanceSnapshot> GetAsync() => Task.FromResult(InstanceLifecycle.Snapshot(GrainKey, state.State, time.GetUtcNow()));
}
