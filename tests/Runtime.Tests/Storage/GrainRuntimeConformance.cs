using Actors.Runtime.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Actors.Runtime.Tests.Storage;

/// <summary>The runtime's promises, run against every store (PostgreSQL and SQLite).</summary>
public abstract class GrainRuntimeConformance
{
    private static readonly IServiceProvider Services = new ServiceCollection().BuildServiceProvider();

    /// <summary>A new storage object on this class's database (a "silo").</summary>
    protected abstract Task<IGrainStorage> NewStorageAsync();

    protected async Task<GrainRuntime> NewSiloAsync()
    {
        var storage = await NewStorageAsync();
        await storage.MigrateAsync();
        return new GrainRuntime(storage, new GrainTypeRegistry().Add<ICounterGrain, CounterGrain>(), Services);
    }

    private static string Key() => Guid.NewGuid().ToString("N");

    [Fact]
    public async Task AGrainExistsAsSoonAsItIsCalledWithDefaultState()
    {
        var counter = (await NewSiloAsync()).GetGrain<ICounterGrain>(Key());
        Assert.Equal(0, await counter.GetAsync());
        Assert.False(await counter.ExistsAsync());
        Assert.Null(await counter.EtagAsync());
    }

    [Fact]
    public async Task WrittenStateSurvivesIntoAnotherSilo()
    {
        var key = Key();
        await (await NewSiloAsync()).GetGrain<ICounterGrain>(key).IncrementAsync(5);
        var other = (await NewSiloAsync()).GetGrain<ICounterGrain>(key);
        Assert.Equal(5, await other.GetAsync());
        Assert.True(await other.ExistsAsync());
    }

    [Fact]
    public async Task ATurnThatThrowsWritesNothing()
    {
        var counter = (await NewSiloAsync()).GetGrain<ICounterGrain>(Key());
        await counter.IncrementAsync(2);
        var e = await Assert.ThrowsAsync<InvalidOperationException>(counter.FailAfterWritingAsync);
        Assert.Equal("boom", e.Message);
        Assert.Equal(2, await counter.GetAsync());
    }

    [Fact]
    public async Task StagedRowsCommitWithTheStateOrNotAtAll()
    {
        var counter = (await NewSiloAsync()).GetGrain<ICounterGrain>(Key());
        Assert.Equal(1, await counter.IncrementLoggedAsync("a", fail: false));

        // The row's key is taken: the insert fails at commit, so the state is not written either.
        await Assert.ThrowsAnyAsync<Exception>(() => counter.IncrementLoggedAsync("a", fail: false));
        Assert.Equal(1, await counter.GetAsync());

        // A turn that throws leaves no row: the same key commits later.
        await Assert.ThrowsAsync<InvalidOperationException>(() => counter.IncrementLoggedAsync("b", fail: true));
        Assert.Equal(2, await counter.IncrementLoggedAsync("b", fail: false));
    }

    [Fact]
    public async Task TheEtagChangesWithEveryWrite()
    {
        var counter = (await NewSiloAsync()).GetGrain<ICounterGrain>(Key());
        await counter.IncrementAsync(1);
        var first = await counter.EtagAsync();
        await counter.IncrementAsync(1);
        Assert.NotEqual(first, await counter.EtagAsync());
    }

    [Fact]
    public async Task ConcurrentIncrementsFromTwoSilosAreAllCounted()
    {
        var key = Key();
        var silos = new[] { await NewSiloAsync(), await NewSiloAsync() };
        const int calls = 400;

        await Task.WhenAll(Enumerable.Range(0, calls).Select(i => Task.Run(() => silos[i % 2].GetGrain<ICounterGrain>(key).IncrementAsync(1))));

        Assert.Equal(calls, await silos[0].GetGrain<ICounterGrain>(key).GetAsync());
    }

    [Fact]
    public async Task GrainsWithOtherKeysAreIndependentAndCallsBetweenGrainsAreSeparateTurns()
    {
        var silo = await NewSiloAsync();
        var (a, b) = (Key(), Key());
        Assert.Equal(1, await silo.GetGrain<ICounterGrain>(a).IncrementOtherAsync(b));
        Assert.Equal(0, await silo.GetGrain<ICounterGrain>(a).GetAsync());
        Assert.Equal(1, await silo.GetGrain<ICounterGrain>(b).GetAsync());
    }

    [Fact]
    public async Task AReadOnlyCallSeesTheCommittedStateWithoutWaitingForATurnAndMayNotWrite()
    {
        var counter = (await NewSiloAsync()).GetGrain<ICounterGrain>("read-only");
        await counter.IncrementAsync(5);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource();
        var holding = counter.HoldAsync(started, release.Task);
        await started.Task;

        Assert.Equal(5, await counter.PeekAsync().WaitAsync(TimeSpan.FromSeconds(5))); // not blocked, not the staged 6
        release.SetResult();
        await holding;
        Assert.Equal(6, await counter.PeekAsync());
        await Assert.ThrowsAsync<InvalidOperationException>(counter.WriteWhileReadOnlyAsync);
        Assert.Equal(6, await counter.GetAsync());
    }

    [Fact]
    public async Task MigratingTwiceIsHarmless()
    {
        var storage = await NewStorageAsync();
        await storage.MigrateAsync();
        await storage.MigrateAsync();
        await using var turn = await storage.BeginTurnAsync(new GrainId("X", Key()));
        Assert.Null(turn.Stored);
    }
}
