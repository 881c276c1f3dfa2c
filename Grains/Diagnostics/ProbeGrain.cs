namespace Actors.Grains.Diagnostics;

/// <summary>Read, add one, write: loses counts at once if two activations of one grain ever overlap
/// (the storage ETag turns that into a conflict instead).</summary>
public sealed class ProbeGrain([PersistentState("probe")] IPersistentState<ProbeGrain.State> state) : Grain, IProbeGrain
{
    public async Task<long> IncrementAsync()
    {
        state.State = state.State with { Count = state.State.Count + 1 };
        await state.WriteStateAsync();
        return state.State.Count;
    }

    public Task<long> GetAsync() => Task.FromResult(state.State.Count);

    public sealed record State
    {
        public long Count { get; init; }
    }
}
