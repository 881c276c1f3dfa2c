using System.Collections.Concurrent;
using System.Diagnostics;
using Actors.Storage.Queue;
using Npgsql;

namespace Actors.Cluster.Bench;

/// <summary>The baseline: the job queue alone on the same PostgreSQL, in the end-to-end run's
/// shape — each client submits a job (enqueue), one consumer claims batches with SKIP LOCKED
/// and completes each job, the client is woken and reads its job back (one SELECT), then
/// submits the next. No HTTP, no grains, no model, no billing.</summary>
internal sealed class RawQueueBench : IAsyncDisposable
{
    private readonly NpgsqlDataSource _data;
    private readonly PostgresJobQueue _queue;
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _waiting = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _consuming;
    private long _next;

    public RawQueueBench(string connectionString)
    {
        _data = NpgsqlDataSource.Create(Actors.Storage.Sql.PostgresConnections.Lean(connectionString)); // as the silo opens its connections
        _queue = new PostgresJobQueue(_data, TimeProvider.System);
        _consuming = ConsumeAsync();
    }

    public async Task<Percentiles> SaturatedAsync(int clients, TimeSpan duration)
    {
        var latencies = new List<double>();
        using var stop = new CancellationTokenSource(duration);
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var ms = await OneAsync();
                lock (latencies)
                {
                    latencies.Add(ms);
                }
            }
        })));
        return Percentiles.Of(latencies, clock.Elapsed);
    }

    public async Task<Percentiles> AtRateAsync(int perSecond, TimeSpan duration)
    {
        var latencies = new List<double>();
        var tasks = new List<Task>();
        var clock = Stopwatch.StartNew();
        var sent = 0;
        while (clock.Elapsed < duration)
        {
            while (sent < clock.Elapsed.TotalSeconds * perSecond)
            {
                sent++;
                tasks.Add(Task.Run(async () =>
                {
                    var ms = await OneAsync();
                    lock (latencies)
                    {
                        latencies.Add(ms);
                    }
                }));
            }

            await Task.Delay(1);
        }

        await Task.WhenAll(tasks);
        return Percentiles.Of(latencies, duration);
    }

    /// <summary>One job: submitted, claimed, completed, read back.</summary>
    private async Task<double> OneAsync()
    {
        var id = $"raw-{Interlocked.Increment(ref _next)}-{Guid.NewGuid():N}";
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _waiting[id] = done;
        var start = Stopwatch.GetTimestamp();
        await _queue.EnqueueAsync(new QueuedJob(id, "bench", 0));
        await done.Task;
        await using (var read = _data.CreateCommand("SELECT count(*) FROM job_queue WHERE job_id = $1"))
        {
            read.Parameters.AddWithValue(id);
            if ((long)(await read.ExecuteScalarAsync())! != 0)
            {
                throw new InvalidOperationException($"{id} completed but still queued");
            }
        }

        return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    private async Task ConsumeAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var leases = await _queue.ClaimAsync("bench", "raw-host", 64, TimeSpan.FromMinutes(1), CancellationToken.None);
            if (leases.Count == 0)
            {
                await Task.Delay(1, CancellationToken.None);
                continue;
            }

            await Task.WhenAll(leases.Select(l => _queue.CompleteAsync(l.JobId, "raw-host")));
            foreach (var lease in leases)
            {
                if (_waiting.TryRemove(lease.JobId, out var done))
                {
                    done.TrySetResult();
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _consuming;
        _stop.Dispose();
        await _data.DisposeAsync();
    }
}
