using Actors.Storage.Queue;

namespace Actors.Storage.Tests.Queue;

/// <summary>The queue's promises, against every store.</summary>
public abstract class JobQueueConformance
{
    protected ManualTime Time { get; } = new(new DateTimeOffset(2026, 11, 22, 9, 0, 0, TimeSpan.Zero));

    /// <summary>A queue on this class's database, as another silo would open it.</summary>
    protected abstract Task<IJobQueue> NewQueueAsync();

    private static string Model() => "m" + Guid.NewGuid().ToString("N")[..8];

    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task HigherTiersAreClaimedFirst()
    {
        var queue = await NewQueueAsync();
        var model = Model();
        foreach (var (id, tier) in new[] { ("free", 0), ("premium", 1), ("pro", 2), ("enterprise", 3) })
        {
            await queue.EnqueueAsync(new QueuedJob($"{model}-{id}", model, tier));
        }

        var claimed = await queue.ClaimAsync(model, "h1", 10, Lease);

        Assert.Equal(["enterprise", "pro", "premium", "free"], claimed.Select(l => l.JobId[(model.Length + 1)..]));
        Assert.All(claimed, l => Assert.Equal(1, l.Attempt));
    }

    [Fact]
    public async Task AgingLetsAnOldFreeJobGoBeforeANewProJob()
    {
        var queue = await NewQueueAsync();
        var model = Model();
        await queue.EnqueueAsync(new QueuedJob($"{model}-free", model, 0));
        Time.Advance(TimeSpan.FromMinutes(1));
        await queue.EnqueueAsync(new QueuedJob($"{model}-pro-early", model, 2));
        Time.Advance(TimeSpan.FromMinutes(2));
        await queue.EnqueueAsync(new QueuedJob($"{model}-pro-late", model, 2));

        var order = (await queue.ClaimAsync(model, "h1", 10, Lease)).Select(l => l.JobId[(model.Length + 1)..]).ToList();

        // Pro's head start is 2 min: the Pro job 1 min after Free overtakes it; 3 min after, it does not.
        Assert.Equal(["pro-early", "free", "pro-late"], order);
    }

    [Fact]
    public async Task ConcurrentClaimersNeverGetTheSameJob()
    {
        var model = Model();
        var queue = await NewQueueAsync();
        for (var i = 0; i < 200; i++)
        {
            await queue.EnqueueAsync(new QueuedJob($"{model}-{i:D3}", model, i % 4));
        }

        var silos = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => NewQueueAsync()));
        var claims = await Task.WhenAll(Enumerable.Range(0, 8).Select(h => Task.Run(async () =>
        {
            var mine = new List<string>();
            while (true)
            {
                var batch = await silos[h % 4].ClaimAsync(model, $"host{h}", 5, Lease);
                if (batch.Count == 0)
                {
                    return mine;
                }

                mine.AddRange(batch.Select(l => l.JobId));
            }
        })));

        var all = claims.SelectMany(c => c).ToList();
        Assert.Equal(200, all.Count);
        Assert.Equal(200, all.Distinct().Count());
    }

    [Fact]
    public async Task ALapsedLeasePutsTheJobBackUntilItsAttemptsRunOut()
    {
        var queue = await NewQueueAsync();
        var model = Model();
        var id = $"{model}-job";
        await queue.EnqueueAsync(new QueuedJob(id, model, 1, MaxAttempts: 2));

        Assert.Single(await queue.ClaimAsync(model, "h1", 1, Lease));
        Time.Advance(Lease + TimeSpan.FromSeconds(1));
        // Recovery covers every model (the control role runs it for all): look at this job only.
        var first = Assert.Single(await queue.RecoverLapsedAsync(), j => j.JobId == id);
        Assert.Equal((id, 1, true), (first.JobId, first.Attempts, first.Requeued));

        var retry = Assert.Single(await queue.ClaimAsync(model, "h2", 1, Lease));
        Assert.Equal(2, retry.Attempt);
        Assert.False(await queue.CompleteAsync(id, "h1"), "the first host lost its lease and must not report the job");

        Time.Advance(Lease + TimeSpan.FromSeconds(1));
        var last = Assert.Single(await queue.RecoverLapsedAsync(), j => j.JobId == id);
        Assert.False(last.Requeued);
        Assert.Contains("attempt 2 of 2", last.Failure, StringComparison.Ordinal);
        Assert.Empty(await queue.ClaimAsync(model, "h3", 1, Lease));
    }

    [Fact]
    public async Task RenewingKeepsTheLeaseAndOnlyTheHolderCompletes()
    {
        var queue = await NewQueueAsync();
        var model = Model();
        var id = $"{model}-job";
        await queue.EnqueueAsync(new QueuedJob(id, model, 0));
        await queue.ClaimAsync(model, "h1", 1, Lease);

        Time.Advance(TimeSpan.FromSeconds(20));
        Assert.Equal([id], await queue.RenewAsync("h1", [id], Lease));
        Assert.Empty(await queue.RenewAsync("h2", [id], Lease));
        Time.Advance(TimeSpan.FromSeconds(20));
        Assert.DoesNotContain(id, (await queue.RecoverLapsedAsync()).Select(j => j.JobId));

        Assert.False(await queue.CompleteAsync(id, "h2"));
        Assert.True(await queue.CompleteAsync(id, "h1"));
        Assert.False(await queue.CompleteAsync(id, "h1"), "completing twice must not count twice");
    }

    [Fact]
    public async Task EnqueueingTwiceQueuesOnceAndDepthCountsPerTier()
    {
        var queue = await NewQueueAsync();
        var model = Model();
        Assert.True(await queue.EnqueueAsync(new QueuedJob($"{model}-1", model, 0)));
        Assert.False(await queue.EnqueueAsync(new QueuedJob($"{model}-1", model, 0)));
        await queue.EnqueueAsync(new QueuedJob($"{model}-2", model, 2));
        await queue.EnqueueAsync(new QueuedJob($"{model}-3", model, 2));

        var depth = await queue.DepthAsync(model);

        Assert.Equal(1, depth[0]);
        Assert.Equal(2, depth[2]);
        Assert.False(depth.ContainsKey(1));
    }
}
