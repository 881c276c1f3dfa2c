using Actors.Inference.Batching;
using Actors.Inference.Errors;
using Actors.Inference.Tensors;
using Microsoft.Extensions.Time.Testing;

namespace Actors.Inference.Tests.Batching;

/// <summary>The batcher alone, over a forward written in C# (doubles every value and records
/// the batch sizes it saw), so what is asserted is the batcher's own behaviour.</summary>
public sealed class DynamicBatcherTests
{
    private static Tensor Row(float value) => Tensor.FromFloat32([value, value + 0.5f], 1, 2);

    private static Func<IReadOnlyList<Tensor>, Tensor[]> Doubling(List<int> sizes, TimeSpan work = default) => inputs =>
    {
        lock (sizes)
        {
            sizes.Add((int)inputs[0].Shape[0]);
        }

        if (work > TimeSpan.Zero)
        {
            Thread.Sleep(work);
        }

        if (inputs[0].Floats.Any(float.IsNegative))
        {
            throw new InvalidInputException("negative values are poison");
        }

        return [Tensor.FromFloat32(inputs[0].Floats.Select(v => v * 2).ToArray(), inputs[0].Shape.ToArray())];
    };

    [Fact]
    public async Task ConcurrentCallersAreMergedAndEachGetsItsOwnRows()
    {
        var sizes = new List<int>();
        await using var batcher = new DynamicBatcher("m", Doubling(sizes, TimeSpan.FromMilliseconds(5)),
            new BatcherOptions { MaxBatchSize = 8, MaxQueueDelay = TimeSpan.FromMilliseconds(20) });

        var results = await Task.WhenAll(Enumerable.Range(0, 64).Select(i => Task.Run(() => batcher.RunAsync([Row(i)]))));

        for (var i = 0; i < 64; i++)
        {
            Assert.Equal([2f * i, 2f * i + 1f], results[i][0].Floats);
            Assert.Equal([1L, 2L], results[i][0].Shape);
        }

        Assert.Equal(64, sizes.Sum());
        Assert.All(sizes, s => Assert.InRange(s, 1, 8));
        Assert.True(sizes.Count <= 24, $"{sizes.Count} forwards for 64 concurrent rows");
    }

    [Fact]
    public async Task MultiRowRequestsStayTogetherAndNeverExceedTheMaximum()
    {
        var sizes = new List<int>();
        await using var batcher = new DynamicBatcher("m", Doubling(sizes),
            new BatcherOptions { MaxBatchSize = 5, MaxQueueDelay = TimeSpan.FromMilliseconds(10) });

        var requests = Enumerable.Range(0, 20).Select(i =>
            batcher.RunAsync([Tensor.FromFloat32(Enumerable.Range(0, 6).Select(v => (float)(i * 10 + v)).ToArray(), 3, 2)])).ToArray();
        var results = await Task.WhenAll(requests);

        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(Enumerable.Range(0, 6).Select(v => 2f * (i * 10 + v)), results[i][0].Floats);
        }

        Assert.All(sizes, s => Assert.True(s is 3, $"batch of {s} rows: 3-row requests cannot share a 5-row batch"));
        await Assert.ThrowsAsync<InvalidInputException>(() => batcher.RunAsync([Tensor.FromFloat32(new float[12], 6, 2)]));
    }

    [Fact]
    public async Task AtLowLoadAnItemWaitsForTheMaxDelayOnTheBatchersClockAndNoLonger()
    {
        // The batcher's clock moves only when the test says, so how busy this machine is
        // cannot change the answer: the lone request must still wait (real time passing does
        // not count) until its clock passes the max delay, and then run without anything more.
        var sizes = new List<int>();
        var clock = new FakeTimeProvider();
        var delay = TimeSpan.FromMilliseconds(30);
        await using var batcher = new DynamicBatcher("m", Doubling(sizes), new BatcherOptions { MaxBatchSize = 8, MaxQueueDelay = delay }, clock);

        var lone = batcher.RunAsync([Row(1)]);
        await Task.Delay(delay * 4, TestContext.Current.CancellationToken);
        Assert.False(lone.IsCompleted, "the batch closed before its clock reached the max delay");

        clock.Advance(delay - TimeSpan.FromMilliseconds(5));
        await Task.Delay(delay * 4, TestContext.Current.CancellationToken);
        Assert.False(lone.IsCompleted, "the batch closed 5 ms before the max delay");

        clock.Advance(TimeSpan.FromMilliseconds(5));
        var answer = await lone.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        Assert.Equal([2f, 3f], answer[0].Floats);
        Assert.Equal([1], sizes);
    }

    [Fact]
    public async Task AFullBatchRunsWithoutWaitingForTheDelay()
    {
        var sizes = new List<int>();
        await using var batcher = new DynamicBatcher("m", Doubling(sizes),
            new BatcherOptions { MaxBatchSize = 4, MaxQueueDelay = TimeSpan.FromSeconds(30) });

        var all = Task.WhenAll(Enumerable.Range(0, 4).Select(i => batcher.RunAsync([Row(i)])));

        Assert.Same(all, await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken)));
        Assert.Equal([4], sizes);
    }

    [Fact]
    public async Task ACanceledRequestIsDroppedAndItsNeighboursStillAnswered()
    {
        var sizes = new List<int>();
        await using var batcher = new DynamicBatcher("m", Doubling(sizes),
            new BatcherOptions { MaxBatchSize = 8, MaxQueueDelay = TimeSpan.FromMilliseconds(200) });
        using var cancel = new CancellationTokenSource();

        var kept = batcher.RunAsync([Row(1)]);
        var dropped = batcher.RunAsync([Row(2)], cancel.Token);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => dropped);
        Assert.Equal(new[] { 2f, 3f }, (await kept)[0].Floats);
        Assert.Equal([1], sizes);
    }

    [Fact]
    public async Task AFullQueuePushesBackInsteadOfGrowing()
    {
        using var gate = new ManualResetEventSlim(false);
        await using var batcher = new DynamicBatcher("m", inputs =>
        {
            gate.Wait(TimeSpan.FromSeconds(30));
            return [inputs[0]];
        }, new BatcherOptions { MaxBatchSize = 1, MaxQueueDelay = TimeSpan.Zero, MaxQueued = 4 });

        var running = batcher.RunAsync([Row(0)]);
        while (batcher.Waiting > 0)
        {
            await Task.Delay(5, TestContext.Current.CancellationToken);
        }

        var queued = Enumerable.Range(1, 4).Select(i => batcher.RunAsync([Row(i)])).ToList();
        var e = Assert.Throws<BatchQueueFullException>(() => { _ = batcher.RunAsync([Row(99)]); });
        Assert.Contains("full", e.Message, StringComparison.Ordinal);

        gate.Set();
        await running;
        await Task.WhenAll(queued);
    }

    [Fact]
    public async Task OneFailingRequestDoesNotFailTheOthersInItsBatch()
    {
        var sizes = new List<int>();
        await using var batcher = new DynamicBatcher("m", Doubling(sizes),
            new BatcherOptions { MaxBatchSize = 8, MaxQueueDelay = TimeSpan.FromMilliseconds(50) });

        var good = Enumerable.Range(1, 3).Select(i => batcher.RunAsync([Row(i)])).ToList();
        var bad = batcher.RunAsync([Row(-5)]);

        await Assert.ThrowsAsync<InvalidInputException>(() => bad);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(2f * (i + 1), (await good[i])[0].Floats[0]);
        }
    }

    [Fact]
    public async Task SeveralBatchesRunAtOnceButNeverMoreThanAllowed()
    {
        var running = 0;
        var peak = 0;
        await using var batcher = new DynamicBatcher("m", inputs =>
        {
            var now = Interlocked.Increment(ref running);
            InterlockedMax(ref peak, now);
            Thread.Sleep(20);
            Interlocked.Decrement(ref running);
            return [Tensor.FromFloat32(inputs[0].Floats.Select(v => v + 1).ToArray(), inputs[0].Shape.ToArray())];
        }, new BatcherOptions { MaxBatchSize = 2, MaxQueueDelay = TimeSpan.Zero, MaxConcurrentBatches = 3 });

        var results = await Task.WhenAll(Enumerable.Range(0, 30).Select(i => batcher.RunAsync([Row(i)])));

        Assert.Equal(Enumerable.Range(0, 30).Select(i => i + 1f), results.Select(r => r[0].Floats[0]));
        Assert.InRange(peak, 2, 3);
    }

    [Fact]
    public async Task SchedulesOfDifferentWidthsShareABatchPaddedWhileTheWidestIsAtMostTwiceTheNarrowest()
    {
        // The forward answers each row with (sum of its steps, steps before the padding), so a
        // row that got another's schedule, or padding in the wrong place, answers wrong.
        var seen = new List<(long Rows, long Width, long[] Values)>();
        using var entered = new ManualResetEventSlim();
        using var gate = new ManualResetEventSlim();
        await using var batcher = new DynamicBatcher("m", inputs =>
        {
            var schedule = inputs[0];
            lock (seen)
            {
                seen.Add((schedule.Shape[0], schedule.Shape[1], schedule.Longs.ToArray()));
            }

            entered.Set();
            gate.Wait();
            var (rows, width) = ((int)schedule.Shape[0], (int)schedule.Shape[1]);
            var answer = new float[rows * 2];
            for (var r = 0; r < rows; r++)
            {
                var row = schedule.Longs.AsSpan(r * width, width).ToArray();
                answer[2 * r] = row.Where(v => v >= 0).Sum();
                answer[2 * r + 1] = row.TakeWhile(v => v >= 0).Count();
            }

            return [Tensor.FromFloat32(answer, rows, 2)];
        }, new BatcherOptions { MaxBatchSize = 8, MaxQueueDelay = TimeSpan.Zero, Ragged = new RaggedInput(0, -1, 2.0) });

        static Tensor Schedule(int width, int first) => Tensor.FromInt64(Enumerable.Range(first, width).Select(v => (long)v).ToArray(), 1, width);

        // The worker is held in a first batch while the rest queue up in a known order.
        var blocker = batcher.RunAsync([Schedule(3, 100)]);
        Assert.True(entered.Wait(TimeSpan.FromSeconds(30)));
        int[] widths = [4, 6, 8, 10, 5];
        var requests = widths.Select((w, i) => batcher.RunAsync([Schedule(w, 10 * i)])).ToArray();
        gate.Set();
        await blocker;
        var answers = await Task.WhenAll(requests);

        for (var i = 0; i < widths.Length; i++)
        {
            var steps = Enumerable.Range(10 * i, widths[i]);
            Assert.Equal([steps.Sum(), widths[i]], answers[i][0].Floats);
        }

        // 4, 6 and 8 share one batch padded to 8; 10 is more than twice 4, so it starts the
        // next batch, which 5 joins (10 <= 2 x 5).
        Assert.Equal([(1L, 3L), (3L, 8L), (2L, 10L)], seen.Select(b => (b.Rows, b.Width)));
        static IEnumerable<long> Steps(int first, int count, int padding) =>
            Enumerable.Range(first, count).Select(v => (long)v).Concat(Enumerable.Repeat(-1L, padding));
        Assert.Equal([.. Steps(0, 4, 4), .. Steps(10, 6, 2), .. Steps(20, 8, 0)], seen[1].Values);
        Assert.Equal([.. Steps(30, 10, 0), .. Steps(40, 5, 5)], seen[2].Values);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }

    [Fact]
    public async Task DisposingDrainsWhatWasQueued()
    {
        var sizes = new List<int>();
        var batcher = new DynamicBatcher("m", Doubling(sizes, TimeSpan.FromMilliseconds(20)),
            new BatcherOptions { MaxBatchSize = 2, MaxQueueDelay = TimeSpan.Zero });
        var pending = Enumerable.Range(0, 6).Select(i => batcher.RunAsync([Row(i)])).ToList();

        await batcher.DisposeAsync();

        Assert.All(pending, p => Assert.True(p.IsCompletedSuccessfully));
        Assert.Throws<ObjectDisposedException>(() => { _ = batcher.RunAsync([Row(1)]); });
    }

    // The idle gap (GPU): a batch does not wait out the max delay while nothing of its model runs.
    // The max delay here is 20 s, so any batch that closes sooner closed by the gap or by the
    // running batch's end.
    private static BatcherOptions IdleGapOptions(TimeSpan gap) => new()
    {
        MaxBatchSize = 8,
        MaxQueueDelay = TimeSpan.FromSeconds(20),
        MaxConcurrentBatches = 2,
        IdleGap = gap,
    };

    [Fact]
    public async Task WithAnIdleGapALoneRequestOnAnIdleDeviceRunsWithoutWaitingTheMaxDelay()
    {
        var sizes = new List<int>();
        await using var batcher = new DynamicBatcher("m", Doubling(sizes), IdleGapOptions(TimeSpan.FromMilliseconds(1)));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var answer = await batcher.RunAsync([Row(3)]);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"a lone request took {clock.Elapsed}: it waited for the max delay");
        Assert.Equal([6f, 7f], answer[0].Floats);
        Assert.Equal([1], sizes);
    }

    [Fact]
    public async Task WithAnIdleGapACallerBurstOnAnIdleDeviceLandsInOneBatch()
    {
        var sizes = new List<int>();
        await using var batcher = new DynamicBatcher("m", Doubling(sizes), IdleGapOptions(TimeSpan.FromMilliseconds(300)));
        // Six callers at once, two workers: one batch forms at a time, so they are not split.
        var answers = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => batcher.RunAsync([Row(i)])));
        Assert.Equal([6], sizes);
        for (var i = 0; i < 6; i++)
        {
            Assert.Equal([2f * i, 2f * i + 1], answers[i][0].Floats);
        }
    }

    [Fact]
    public async Task WithAnIdleGapRequestsThatCameWhileABatchRanGoTogetherTheMomentItEnds()
    {
        var sizes = new List<int>();
        using var entered = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var inner = Doubling(sizes);
        await using var batcher = new DynamicBatcher("m", inputs =>
        {
            var outputs = inner(inputs);
            if (!entered.IsSet)
            {
                entered.Set();
                Assert.True(release.Wait(TimeSpan.FromSeconds(30)), "never released");
            }

            return outputs;
        }, IdleGapOptions(TimeSpan.FromMilliseconds(1)));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var running = batcher.RunAsync([Row(1)]);
        Assert.True(entered.Wait(TimeSpan.FromSeconds(10)), "the first batch never started");
        var waiting = Enumerable.Range(2, 5).Select(i => batcher.RunAsync([Row(i)])).ToArray();
        // The other worker takes all five while the first batch runs (the device is busy: it waits).
        for (var i = 0; i < 1000 && batcher.Waiting > 0; i++)
        {
            await Task.Delay(5);
        }

        await Task.Delay(50);
        lock (sizes)
        {
            Assert.Equal([1], sizes);
        }

        release.Set();
        await running;
        var answers = await Task.WhenAll(waiting);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}: the gathered batch waited for the max delay");
        Assert.Equal([1, 5], sizes);
        Assert.Equal([4f, 5f], answers[0][0].Floats);
    }

    [Fact]
    public async Task WithAnIdleGapARequestThatDidNotFitItsBatchStillRunsWhenNoMoreCome()
    {
        var sizes = new List<int>();
        await using var batcher = new DynamicBatcher("m", Doubling(sizes), IdleGapOptions(TimeSpan.FromMilliseconds(300)));
        // Two shapes at once: the second does not fit the first's batch, and nothing else comes.
        var narrow = batcher.RunAsync([Row(1)]);
        var wide = batcher.RunAsync([Tensor.FromFloat32([1f, 2f, 3f], 1, 3)]);
        var both = await Task.WhenAll(narrow, wide).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal([2f, 3f], both[0][0].Floats);
        Assert.Equal([2f, 4f, 6f], both[1][0].Floats);
        Assert.Equal([1, 1], sizes);
    }

    [Fact]
    public async Task WithAnIdleGapDisposingStopsEveryWorkerAndDrainsTheQueue()
    {
        var sizes = new List<int>();
        var batcher = new DynamicBatcher("m", Doubling(sizes, TimeSpan.FromMilliseconds(10)), IdleGapOptions(TimeSpan.FromMilliseconds(1)) with { MaxBatchSize = 2 });
        var pending = Enumerable.Range(0, 7).Select(i => batcher.RunAsync([Row(i)])).ToList();
        await batcher.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.All(pending, p => Assert.True(p.IsCompletedSuccessfully));
        Assert.Equal(7, sizes.Sum());
    }

    [Fact]
    public async Task WithTheRealModelConcurrentCallersGetTheirOwnCorrectAnswers()
    {
        await using var engine = InferenceEngine.Start(TestEnvironment.Options(), only: ["classification"]);
        var model = engine.Get("classification");
        var inputs = Enumerable.Range(0, 24).Select(i =>
        {
            var rng = new Random(i);
            return Tensor.FromFloat32(Enumerable.Range(0, 224 * 224).Select(_ => (float)rng.NextDouble()).ToArray(), 1, 1, 224, 224);
        }).ToList();
        var expected = inputs.Select(t => model.ForwardDirect([t])[0].Floats).ToList();

        var actual = await Task.WhenAll(inputs.Select(t => Task.Run(() => model.ForwardAsync([t]))));

        for (var i = 0; i < inputs.Count; i++)
        {
            Assert.True(expected[i].Zip(actual[i][0].Floats, (x, y) => Math.Abs(x - y)).Max() < 1e-3, $"caller {i} got another's answer");
        }

        Assert.True(model.Batcher.BatchesRun < 24, "nothing was batched");
    }
}
