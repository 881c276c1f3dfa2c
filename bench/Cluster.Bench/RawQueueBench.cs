using System.Collections.Concurrent;
using System.Diagnostics;
using Actors.Storage.Queue;
using Npgsql;

namespace Actors.Cluster.Bench;

/// <summary>The baseline: the job queue alone on the same PostgreSQL — producers enqueue, one
/// consumer claims batches with SKIP LOCKED and completes each job. No HTTP, no grains, no model.</summary>
internal static class RawQueueBench
{
    public static async Task<Percentiles> SaturatedAsync(string connectionString, int producers, TimeSpan duration)
    {
        await using var data = NpgsqlDataSource.Create(connectionString);
        var queue = new PostgresJobQueue(data, TimeProvider.System);
        var enqueued = new ConcurrentDictionary<string, long>();
        var latencies = new List<double>();
        using var stop = new CancellationTokenSource(duration);
        var clock = Stopwatch.StartNew();
        var producing = Enumerable.Range(0, producers).Select(p => Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var id = $"raw-{p}-{i}-{Guid.NewGuid():N}";
                enqueued[id] = Stopwatch.GetTimestamp();
                await queue.EnqueueAsync(new QueuedJob(id, "bench", 0));
            }
        })).ToArray();
        var consuming = ConsumeAsync(queue, enqueued, latencies, stop.Token);
        await Task.WhenAll(producing);
        await consuming;
        return Percentiles.Of(latencies, clock.Elapsed);
    }

    public static async Task<Percentiles> AtRateAsync(string connectionString, int perSecond, TimeSpan duration)
    {
        await using var data = NpgsqlDataSource.Create(connectionString);
        var queue = new PostgresJobQueue(data, TimeProvider.System);
        var enqueued = new ConcurrentDictionary<string, long>();
        var latencies = new List<double>();
        using var stop = new CancellationTokenSource();
        var consuming = ConsumeAsync(queue, enqueued, latencies, stop.Token);
        var clock = Stopwatch.StartNew();
        var sent = 0;
        var tasks = new List<Task>();
        while (clock.Elapsed < duration)
        {
            while (sent < clock.Elapsed.TotalSeconds * perSecond)
            {
                var id = $"rate-{sent++}-{Guid.NewGuid():N}";
                enqueued[id] = Stopwatch.GetTimestamp();
                tasks.Add(queue.EnqueueAsync(new QueuedJob(id, "bench", 0)));
            }

            await Task.Delay(1);
        }

        await Task.WhenAll(tasks);
        while (!enqueued.IsEmpty && clock.Elapsed < duration + TimeSpan.FromSeconds(10))
        {
            await Task.Delay(10);
        }

        await stop.CancelAsync();
        await consuming;
        return Percentiles.Of(latencies, duration);
    }

    private static async Task ConsumeAsync(PostgresJobQueue queue, ConcurrentDictionary<string, long> enqueued, List<double> latencies, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            var leases = await queue.ClaimAsync("bench", "raw-host", 64, TimeSpan.FromMinutes(1), CancellationToken.None);
            if (leases.Count == 0)
            {
                await Task.Delay(1, CancellationToken.None);
                continue;
            }

            await Task.WhenAll(leases.Select(l => queue.CompleteAsync(l.JobId, "raw-host")));
            var now = Stopwatch.GetTimestamp();
            lock (latencies)
            {
                foreach (var lease in leases)
                {
                    if (enqueued.TryRemove(lease.JobId, out var at))
                    {
                        latencies.Add(Stopwatch.GetElapsedTime(at, now).TotalMilliseconds);
                    }
                }
            }
        }
    }
}
