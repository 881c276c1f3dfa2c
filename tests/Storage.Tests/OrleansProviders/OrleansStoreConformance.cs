using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans;
using Orleans.Runtime;
using Orleans.Storage;

namespace Actors.Storage.Tests.OrleansProviders;

/// <summary>Orleans' ADO.NET grain storage and reminders on our schema (migration 008), on real
/// silos: state survives a restart, a stale ETag is a conflict that loses no update, one row per
/// grain, and a reminder registered before a full restart fires after it.</summary>
public abstract class OrleansStoreConformance
{
    protected abstract Task<IHost> StartSiloAsync(string serviceId);

    protected abstract Task<long> StoredRowsAsync(string serviceId);

    private static string NewServiceId() => "t" + Guid.NewGuid().ToString("N")[..10];

    [Fact]
    public async Task StateWrittenOnOneSiloIsReadAfterAFullRestart()
    {
        var service = NewServiceId();
        var first = await StartSiloAsync(service);
        for (var i = 0; i < 5; i++)
        {
            await first.Grains().GetGrain<ITallyGrain>("a").IncrementAsync();
        }

        await first.Grains().GetGrain<ITallyGrain>("b").IncrementAsync();
        await first.StopQuietlyAsync();

        var second = await StartSiloAsync(service);
        try
        {
            Assert.Equal(5, await second.Grains().GetGrain<ITallyGrain>("a").GetAsync());
            Assert.Equal(2, await second.Grains().GetGrain<ITallyGrain>("b").IncrementAsync());
            Assert.Equal(0, await second.Grains().GetGrain<ITallyGrain>("never").GetAsync());
            Assert.Equal(2, await StoredRowsAsync(service)); // one row per grain written, however often
        }
        finally
        {
            await second.StopQuietlyAsync();
        }
    }

    [Fact]
    public async Task AStaleEtagIsAConflictAndTheNewerWriteIsKept()
    {
        var service = NewServiceId();
        var silo = await StartSiloAsync(service);
        try
        {
            var storage = silo.Services.GetRequiredKeyedService<IGrainStorage>(TestSilo.Store);
            var id = GrainId.Create("tally", "conflict");
            var a = new GrainState<TallyState>(new TallyState());
            var b = new GrainState<TallyState>(new TallyState());

            // Two activations that both think the grain is new: the second insert is a conflict.
            a.State!.Count = 1;
            await storage.WriteStateAsync("tally", id, a);
            b.State!.Count = 100;
            await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("tally", id, b));

            // b catches up, writes; a's ETag is now stale and its write is refused.
            await storage.ReadStateAsync("tally", id, b);
            Assert.Equal((1, a.ETag), (b.State!.Count, b.ETag));
            b.State!.Count = 2;
            await storage.WriteStateAsync("tally", id, b);
            Assert.NotEqual(a.ETag, b.ETag);
            a.State!.Count = 50;
            await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("tally", id, a));

            var fresh = new GrainState<TallyState>(new TallyState());
            await storage.ReadStateAsync("tally", id, fresh);
            Assert.Equal((2, b.ETag, true), (fresh.State!.Count, fresh.ETag, fresh.RecordExists));

            // A conflict leaves the ETag as it was, so re-reading and retrying succeeds.
            await storage.ReadStateAsync("tally", id, a);
            a.State!.Count = 3;
            await storage.WriteStateAsync("tally", id, a);
            await storage.ReadStateAsync("tally", id, fresh);
            Assert.Equal(3, fresh.State!.Count);

            // Clearing needs the current ETag too, and bumps it.
            await Assert.ThrowsAsync<InconsistentStateException>(() => storage.ClearStateAsync("tally", id, b));
            await storage.ClearStateAsync("tally", id, a);
            await storage.ReadStateAsync("tally", id, fresh);
            Assert.Equal(0, fresh.State!.Count);
            Assert.Equal(1, await StoredRowsAsync(service));
        }
        finally
        {
            await silo.StopQuietlyAsync();
        }
    }

    [Fact]
    public async Task ConcurrentCallsOnOneGrainLoseNoIncrement()
    {
        var service = NewServiceId();
        var silo = await StartSiloAsync(service);
        try
        {
            var grain = silo.Grains().GetGrain<ITallyGrain>("hot");
            var results = await Task.WhenAll(Enumerable.Range(0, 500).Select(_ => grain.IncrementAsync()));
            Assert.Equal(Enumerable.Range(1, 500), results.Order());
        }
        finally
        {
            await silo.StopQuietlyAsync();
        }

        var again = await StartSiloAsync(service);
        try
        {
            Assert.Equal(500, await again.Grains().GetGrain<ITallyGrain>("hot").GetAsync());
        }
        finally
        {
            await again.StopQuietlyAsync();
        }
    }

    [Fact]
    public async Task AReminderRegisteredBeforeAFullRestartFiresAfterIt()
    {
        var service = NewServiceId();
        var first = await StartSiloAsync(service);
        await first.Grains().GetGrain<ITallyGrain>("reminded").RemindAsync(dueSeconds: 4);
        await first.StopQuietlyAsync(); // before it is due: nothing is running it now

        var second = await StartSiloAsync(service);
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(60);
            var ticks = 0;
            while (DateTime.UtcNow < deadline && (ticks = await ReadTicksAsync(second)) == 0)
            {
                await Task.Delay(250);
            }

            Assert.True(ticks >= 1, "the reminder did not fire within 60 s of the restart");
        }
        finally
        {
            await second.StopQuietlyAsync();
        }
    }

    // Read through storage, not the grain, so the check does not itself activate the grain.
    private static async Task<int> ReadTicksAsync(IHost silo)
    {
        var state = new GrainState<TallyState>(new TallyState());
        await silo.Services.GetRequiredKeyedService<IGrainStorage>(TestSilo.Store).ReadStateAsync("tally", GrainId.Create("tally", "reminded"), state);
        return state.State!.Ticks;
    }
}
