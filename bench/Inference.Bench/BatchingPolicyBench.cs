using System.Diagnostics;
using Actors.Inference.Batching;
using Actors.Inference.Models;
using Actors.Inference.Tensors;

namespace Actors.Inference.Bench;

/// <summary>--batching-policy: the dynamic batcher's GPU policy (close when the device is free and
/// callers have stopped arriving, <see cref="BatcherOptions.IdleGap"/>) against the plain max
/// delay (5 ms, the demo manifests') and against no delay at all (Triton's default), in one run,
/// over a simulated GPU: one device that runs one batch at a time, a forward of
/// <c>launch + rows x perRow</c> that waits rather than computes (so the two CPU cores stay for
/// the batcher and the callers), 2 batches in flight, max batch 64, closed-loop callers.</summary>
internal static class BatchingPolicyBench
{
    private static readonly (string Name, TimeSpan Delay, TimeSpan? Gap)[] Policies =
    [
        ("max delay 5 ms", TimeSpan.FromMilliseconds(5), null),
        ("no delay", TimeSpan.Zero, null),
        ("idle gap 200 µs", TimeSpan.FromMilliseconds(5), LoadedModel.GpuIdleGap),
    ];

    public static async Task<int> RunAsync(BenchSettings settings)
    {
        var forwards = new[] { (Launch: 2.0, PerRow: 0.01), (Launch: 5.0, PerRow: 0.25) };
        var callers = new[] { 1, 8, 32 };
        var seconds = Math.Max(1, settings.Seconds / (forwards.Length * callers.Length * Policies.Length));
        Console.WriteLine($"batching policy on a simulated GPU: {seconds:0.#} s per cell, 2 batches in flight, max batch 64");
        Console.WriteLine("| forward (launch + per row) | callers | " + string.Join(" | ", Policies.Select(p => p.Name + " req/s (p50 / p99 ms)")) + " | gap / delay | gap / none |");
        Console.WriteLine("| --- | --- | " + string.Join(" | ", Policies.Select(_ => "---")) + " | --- | --- |");
        foreach (var (launch, perRow) in forwards)
        {
            foreach (var n in callers)
            {
                var cells = new List<LatencyStats>();
                foreach (var (name, delay, gap) in Policies)
                {
                    cells.Add(await MeasureAsync(name, delay, gap, launch, perRow, n, TimeSpan.FromSeconds(seconds)));
                }

                Console.WriteLine($"| {launch:0.##} ms + {perRow:0.##} ms/row | {n} | " +
                                  string.Join(" | ", cells.Select(c => $"{c.ItemsPerSecond:0} ({c.P50Ms:0.00} / {c.P99Ms:0.00})")) +
                                  $" | **{cells[2].ItemsPerSecond / cells[0].ItemsPerSecond:0.00}** | **{cells[2].ItemsPerSecond / cells[1].ItemsPerSecond:0.00}** |");
            }
        }

        return 0;
    }

    private static async Task<LatencyStats> MeasureAsync(string name, TimeSpan delay, TimeSpan? gap, double launchMs, double perRowMs, int callers, TimeSpan length)
    {
        using var device = new SemaphoreSlim(1, 1);
        var options = new BatcherOptions { MaxBatchSize = 64, MaxQueueDelay = delay, MaxConcurrentBatches = 2, MaxQueued = 4096, IdleGap = gap };
        await using var batcher = new DynamicBatcher("sim", inputs =>
        {
            device.Wait();
            try
            {
                Wait(TimeSpan.FromMilliseconds(launchMs + perRowMs * inputs[0].Shape[0]));
            }
            finally
            {
                device.Release();
            }

            return [inputs[0]];
        }, options);

        var latencies = new List<double>();
        long done = 0;
        var clock = Stopwatch.StartNew();
        var warm = TimeSpan.FromMilliseconds(200);
        var until = warm + length;
        await Task.WhenAll(Enumerable.Range(0, callers).Select(i => Task.Run(async () =>
        {
            var input = Tensor.FromFloat32([i], 1, 1);
            var mine = new List<double>();
            long count = 0;
            while (clock.Elapsed < until)
            {
                var started = clock.Elapsed;
                await batcher.RunAsync([input]);
                if (started >= warm)
                {
                    mine.Add((clock.Elapsed - started).TotalMilliseconds);
                    count++;
                }
            }

            lock (latencies)
            {
                latencies.AddRange(mine);
                done += count;
            }
        })));
        return LatencyStats.From(name, callers, done, clock.Elapsed - warm, latencies);
    }

    /// <summary>A GPU forward's wall time, without keeping a core busy: sleeps the whole
    /// milliseconds, spins the rest.</summary>
    private static void Wait(TimeSpan time)
    {
        var clock = Stopwatch.StartNew();
        if (time > TimeSpan.FromMilliseconds(1.5))
        {
            Thread.Sleep(time - TimeSpan.FromMilliseconds(1.2));
        }

        while (clock.Elapsed < time)
        {
            Thread.SpinWait(64);
        }
    }
}
