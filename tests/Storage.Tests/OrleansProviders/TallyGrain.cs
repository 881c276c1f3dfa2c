using Orleans;
using Orleans.Runtime;

namespace Actors.Storage.Tests.OrleansProviders;

[GenerateSerializer]
public sealed class TallyState
{
    [Id(0)]
    public int Count { get; set; }

    [Id(1)]
    public int Ticks { get; set; }
}

public sealed class TallyGrain([PersistentState("tally")] IPersistentState<TallyState> state, ILocalSiloDetails silo) : global::Orleans.Grain, ITallyGrain, IRemindable
{
    public async Task<int> IncrementAsync()
    {
        state.State.Count++;
        await state.WriteStateAsync();
        return state.State.Count;
    }

    public Task<int> GetAsync() => Task.FromResult(state.State.Count);

    public Task RemindAsync(int dueSeconds) =>
        this.RegisterOrUpdateReminder("tick", TimeSpan.FromSeconds(dueSeconds), TimeSpan.FromMinutes(1));

    public Task<int> TicksAsync() => Task.FromResult(state.State.Ticks);

    public Task<string> SiloAsync() => Task.FromResult(silo.SiloAddress.ToString());

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        state.State.Ticks++;
        await state.WriteStateAsync();
    }
}
