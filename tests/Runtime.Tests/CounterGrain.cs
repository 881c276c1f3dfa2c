using Actors.Grains;

namespace Actors.Runtime.Tests;

public interface ICounterGrain : IGrainWithStringKey
{
    Task<long> IncrementAsync(long by);

    Task<long> GetAsync();

    Task<string?> EtagAsync();

    Task<bool> ExistsAsync();

    /// <summary>Changes and stages the state, then throws: nothing may be written.</summary>
    Task FailAfterWritingAsync();

    /// <summary>Increments another counter (a separate turn) and returns what it said.</summary>
    Task<long> IncrementOtherAsync(string key);

    /// <summary>Increments and stages, tells <paramref name="started"/>, then keeps the turn open until <paramref name="release"/>.</summary>
    Task HoldAsync(TaskCompletionSource started, Task release);

    /// <summary>Increments and stages a row keyed <paramref name="entry"/> (unique per grain)
    /// to commit with the state; then throws if <paramref name="fail"/>.</summary>
    Task<long> IncrementLoggedAsync(string entry, bool fail);

    [ReadOnly]
    Task<long> PeekAsync();

    /// <summary>Breaks the rule: writes in a read-only call.</summary>
    [ReadOnly]
    Task<long> WriteWhileReadOnlyAsync();
}

public sealed class CounterGrain(IPersistentState<CounterGrain.State> state) : Grain, ICounterGrain
{
    public async Task<long> IncrementAsync(long by)
    {
        state.State = state.State with { Count = state.State.Count + by };
        await state.WriteStateAsync();
        return state.State.Count;
    }

    public Task<long> GetAsync() => Task.FromResult(state.State.Count);

    public Task<string?> EtagAsync() => Task.FromResult(state.Etag);

    public Task<bool> ExistsAsync() => Task.FromResult(state.RecordExists);

    public async Task FailAfterWritingAsync()
    {
        state.State = state.State with { Count = state.State.Count + 1000 };
        await state.WriteStateAsync();
        throw new InvalidOperationException("boom");
    }

    public Task<long> IncrementOtherAsync(string key) => GrainFactory.GetGrain<ICounterGrain>(key).IncrementAsync(1);

    public async Task HoldAsync(TaskCompletionSource started, Task release)
    {
        state.State = state.State with { Count = state.State.Count + 1 };
        await state.WriteStateAsync();
        started.SetResult();
        await release;
    }

    public async Task<long> IncrementLoggedAsync(string entry, bool fail)
    {
        state.State = state.State with { Count = state.State.Count + 1 };
        await state.WriteStateAsync();
        WriteWithState(
            "INSERT INTO credit_ledger (tenant_id, entry_key, kind, included, purchased, overage, created_ms) VALUES (@Key, @Entry, 'test', 0, 0, 0, 0)",
            new { Key = GrainKey, Entry = entry });
        return fail ? throw new InvalidOperationException("boom") : state.State.Count;
    }

    public Task<long> PeekAsync() => Task.FromResult(state.State.Count);

    public async Task<long> WriteWhileReadOnlyAsync()
    {
        await state.WriteStateAsync();
        return state.State.Count;
    }

    public sealed record State
    {
        public long Count { get; init; }
    }
}
