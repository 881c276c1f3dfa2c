namespace Actors.Billing.Bench;

/// <summary>The baseline: the cheapest writing grain call there is (add one, write the state).</summary>
public interface ICounterGrain : IGrainWithStringKey
{
    Task<long> IncrementAsync();
}

public sealed class CounterGrain([PersistentState("benchcounter")] IPersistentState<CounterGrain.State> state) : Grain, ICounterGrain
{
    public async Task<long> IncrementAsync()
    {
        state.State = state.State with { Count = state.State.Count + 1 };
        await state.WriteStateAsync();
        return state.State.Count;
    }

    public sealed record State
    {
        public long Count { get; init; }
    }
}
