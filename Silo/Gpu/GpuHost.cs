using System.Collections.Concurrent;
using Actors.Grains;
using Actors.Grains.Instances;
using Actors.Grains.Jobs;
using Actors.Inference;
using Actors.Inference.Errors;
using Actors.Storage.Queue;
using Actors.Silo.Cluster;
using Actors.Silo.Inference;
using Microsoft.Extensions.Options;

namespace Actors.Silo.Gpu;

/// <summary>The gpu role: registers this silo's instance (HOT once the models are loaded,
/// SERVING while it holds jobs) and moves it through its phases, claims jobs per model from the
/// queue in batches (up to <see cref="ClusterOptions.InFlightBatches"/> × the model's batch size
/// at once, so the dynamic batcher can fill its batches), has <see cref="JobComputer"/> run each
/// and completes the jobs. Identical jobs it holds run once. Leases are renewed while jobs run. On
/// shutdown it drains: stops claiming, finishes what it holds, then the instance goes to WARM.</summary>
internal sealed partial class GpuHost(EngineHost engineHost, IJobQueue queue, IGrainFactory grains, JobComputer computer, QueueSignal signal, SiloIdentity silo, IOptions<ClusterOptions> options, ILogger<GpuHost> logger) : IHostedService, IDisposable
{
    private readonly ConcurrentDictionary<string, JobLease> _held = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Task> _running = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Task<JobResult?>> _computing = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _control = new(1, 1);
    private readonly Lock _stopLock = new();
    private IInstanceGrain? _instance;
    private Task? _stopped;
    private Run? _run;
    private long _completed;

    /// <summary>Where this host is: WARM (up, no models), resuming, HOT (claiming), stopping.</summary>
    public HostPhase Phase { get; private set; } = options.Value.StartWarm ? HostPhase.Warm : HostPhase.Resuming;

    public DateTimeOffset PhaseSince { get; private set; } = DateTimeOffset.UtcNow;

    /// <summary>Why the last resume or stop failed; null after one succeeds.</summary>
    public string? LastError { get; private set; }

    public long Completed => Interlocked.Read(ref _completed);

    public int Holding => _held.Count;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _instance = grains.GetGrain<IInstanceGrain>(silo.InstanceId);
        var snapshot = await _instance.GetAsync();
        if (snapshot.GpuType != options.Value.GpuType && snapshot.Provider is null)
        {
            await _instance.ConfigureAsync(options.Value.GpuType, snapshot.Rates);
        }

        if (options.Value.StartWarm)
        {
            await _instance.HostWarmAsync(silo.SiloId);
            LogWarm(logger, silo.InstanceId);
            return;
        }

        await _control.WaitAsync(cancellationToken);
        try
        {
            await ResumeCoreAsync(cancellationToken);
        }
        finally
        {
            _control.Release();
        }
    }

    /// <summary>WARM → HOT in the background: load the models, register HOT, start claiming.
    /// Returns the phase it is in now; a no-op unless WARM.</summary>
    public HostPhase BeginResume() => Begin(HostPhase.Warm, HostPhase.Resuming, ResumeCoreAsync);

    /// <summary>HOT → WARM in the background: stop claiming, finish what it holds, unload the models.</summary>
    public HostPhase BeginStop() => Begin(HostPhase.Hot, HostPhase.Stopping, StopCoreAsync);

    /// <summary>Drains once: a host stopped twice at the same time (its own run loop and a test
    /// harness both stopping it) shares the one drain rather than racing the disposal.</summary>
    public Task StopAsync(CancellationToken cancellationToken)
    {
        lock (_stopLock)
        {
            return _stopped ??= StopOnceAsync(cancellationToken);
        }
    }

    private async Task StopOnceAsync(CancellationToken cancellationToken)
    {
        await _control.WaitAsync(CancellationToken.None);
        try
        {
            await DrainAsync(cancellationToken);
            if (_instance is not null)
            {
                try
                {
                    await _instance.HostStoppedAsync(silo.SiloId, null);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    LogJobError(logger, "-", e);
                }
            }
        }
        finally
        {
            _control.Release();
        }
    }

    public void Dispose()
    {
        _run?.Dispose();
        _control.Dispose();
    }

    private HostPhase Begin(HostPhase from, HostPhase during, Func<CancellationToken, Task> work)
    {
        if (!_control.Wait(0))
        {
            return Phase;
        }

        if (Phase != from)
        {
            _control.Release();
            return Phase;
        }

        SetPhase(during);
        _ = Task.Run(async () =>
        {
            try
            {
                await work(CancellationToken.None);
                LastError = null;
            }
            catch (Exception e)
            {
                LastError = e.Message;
                SetPhase(from);
                LogControlFailed(logger, during, e);
            }
            finally
            {
                _control.Release();
            }
        });
        return during;
    }

    private void SetPhase(HostPhase phase)
    {
        Phase = phase;
        PhaseSince = DateTimeOffset.UtcNow;
    }

    private async Task ResumeCoreAsync(CancellationToken cancellationToken)
    {
        var engine = await engineHost.LoadAsync(cancellationToken);
        await _instance!.HostReadyAsync(silo.SiloId, [.. engine.Models.Select(m => m.Name)]);
        var run = new Run();
        foreach (var model in engine.Models)
        {
            var capacity = options.Value.MaxInFlightPerModel > 0
                ? options.Value.MaxInFlightPerModel
                : Math.Max(1, model.Manifest.Batch.MaxBatchSize * options.Value.InFlightBatches);
            run.Loops.Add(Task.Run(() => ClaimLoopAsync(engine, model.Name, capacity, run.StopClaiming.Token), CancellationToken.None));
        }

        run.Loops.Add(Task.Run(() => RenewLoopAsync(run.StopAll.Token), CancellationToken.None));
        run.Loops.Add(Task.Run(() => ReportBusyLoopAsync(run.StopAll.Token), CancellationToken.None));
        _run = run;
        SetPhase(HostPhase.Hot);
        LogStarted(logger, silo.InstanceId, engine.Device, engine.Models.Count);
    }

    private async Task StopCoreAsync(CancellationToken cancellationToken)
    {
        await DrainAsync(cancellationToken);
        await engineHost.UnloadAsync();
        await _instance!.HostWarmAsync(silo.SiloId);
        SetPhase(HostPhase.Warm);
    }

    /// <summary>Stops claiming, waits (up to DrainSeconds) for the jobs held, then ends the loops.</summary>
    private async Task DrainAsync(CancellationToken cancellationToken)
    {
        if (_run is not { } run)
        {
            return;
        }

        await run.StopClaiming.CancelAsync();
        var drain = Task.WhenAll(_running.Values);
        var drained = await Task.WhenAny(drain, Task.Delay(TimeSpan.FromSeconds(options.Value.DrainSeconds), cancellationToken)) == drain;
        LogDrained(logger, drained, _held.Count);
        await run.StopAll.CancelAsync();
        await Task.WhenAll(run.Loops).ContinueWith(_ => { }, TaskScheduler.Default);
        _run = null;
        run.Dispose();
    }

    /// <summary>One period of claiming, between a resume and a stop.</summary>
    private sealed class Run : IDisposable
    {
        public CancellationTokenSource StopClaiming { get; } = new();

        public CancellationTokenSource StopAll { get; } = new();

        public List<Task> Loops { get; } = [];

        public void Dispose()
        {
            StopClaiming.Dispose();
            StopAll.Dispose();
        }
    }

    private async Task ClaimLoopAsync(InferenceEngine engine, string model, int capacity, CancellationToken ct)
    {
        var slots = new SemaphoreSlim(capacity, capacity);
        var leaseTime = TimeSpan.FromSeconds(options.Value.LeaseSeconds);
        var poll = TimeSpan.FromMilliseconds(options.Value.PollMilliseconds);
        try
        {
            while (!ct.IsCancellationRequested)
            {
                await slots.WaitAsync(ct);
                var free = 1;
                while (slots.Wait(0, CancellationToken.None))
                {
                    free++;
                }

                IReadOnlyList<JobLease> leases;
                try
                {
                    leases = await queue.ClaimAsync(model, silo.SiloId, free, leaseTime, ct);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    LogJobError(logger, model, e);
                    leases = [];
                    await Task.Delay(poll * 5, ct);
                }

                if (leases.Count < free)
                {
                    slots.Release(free - leases.Count);
                }

                foreach (var lease in leases)
                {
                    _held[lease.JobId] = lease;
                    if (lease.CacheKey is { } key)
                    {
                        // Identical jobs this host holds run once: the first computes, the rest wait for it.
                        var own = new TaskCompletionSource<JobResult?>(TaskCreationOptions.RunContinuationsAsynchronously);
                        var leader = _computing.GetOrAdd(key, own.Task);
                        if (leader == own.Task)
                        {
                            Track(lease.JobId, RunAsync(engine, lease, null, own, slots));
                            continue;
                        }

                        Track(lease.JobId, RunAsync(engine, lease, leader, null, slots));
                        continue;
                    }

                    Track(lease.JobId, RunAsync(engine, lease, null, null, slots));
                }

                if (leases.Count == 0)
                {
                    await signal.WaitAsync(model, poll, ct);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // draining: stop claiming
        }
    }

    /// <summary>One claimed job, start to finish. <paramref name="leader"/>: an identical job this
    /// host is already running (its result is reused); <paramref name="publish"/>: where this
    /// job's result goes for its followers.</summary>
    private async Task RunAsync(InferenceEngine engine, JobLease lease, Task<JobResult?>? leader, TaskCompletionSource<JobResult?>? publish, SemaphoreSlim slots)
    {
        JobResult? result = null;
        var grain = grains.GetGrain<IJobGrain>(lease.JobId);
        try
        {
            JobSnapshot job;
            try
            {
                job = await grain.StartAsync(silo.InstanceId, lease.Attempt);
                if (job.Status != JobStatus.Running)
                {
                    await queue.CompleteAsync(lease.JobId, silo.SiloId); // waited past its plan's max wait: expired
                    return;
                }
            }
            catch (InvalidTransitionException)
            {
                var now = await grain.GetAsync();
                if (now.IsTerminal || now.Request is null)
                {
                    await queue.CompleteAsync(lease.JobId, silo.SiloId); // canceled or finished elsewhere: drop it
                }

                return;
            }

            try
            {
                var shared = leader is null ? null : await leader;
                result = shared is not null ? shared.ServedTo(lease.JobId) : await computer.ComputeAsync(engine, job.Request!, lease.JobId, lease.Attempt);
            }
            catch (InferenceException e) when (e is not BatchQueueFullException)
            {
                LogJobFailed(logger, lease.JobId, e.Code, e.Message);
                await FinishAsync(grain, lease, () => grain.FailAsync($"{e.Code}: {e.Message}", lease.Attempt));
                return;
            }

            await FinishAsync(grain, lease, () => grain.SucceedAsync(lease.Attempt, result));
        }
        catch (Exception e)
        {
            // Transient (store down, queue full, shutting down): keep no result; the lease lapses
            // and the job runs again, within its attempts.
            LogJobError(logger, lease.JobId, e);
        }
        finally
        {
            if (publish is not null)
            {
                publish.TrySetResult(result);
                if (lease.CacheKey is { } key)
                {
                    _computing.TryRemove(KeyValuePair.Create(key, publish.Task));
                }
            }

            _held.TryRemove(lease.JobId, out _);
            slots.Release();
        }
    }

    private void Track(string jobId, Task run)
    {
        _running[jobId] = run;
        _ = run.ContinueWith(t => _running.TryRemove(KeyValuePair.Create(jobId, t)), TaskScheduler.Default);
    }

    private async Task FinishAsync(IJobGrain grain, JobLease lease, Func<Task<JobSnapshot>> report)
    {
        try
        {
            await report();
            Interlocked.Increment(ref _completed);
        }
        catch (InvalidTransitionException)
        {
            // canceled, or the lease lapsed and the job was taken over: its grain keeps the other outcome
        }

        await queue.CompleteAsync(lease.JobId, silo.SiloId);
    }

    private async Task RenewLoopAsync(CancellationToken stop)
    {
        var lease = TimeSpan.FromSeconds(options.Value.LeaseSeconds);
        using var timer = new PeriodicTimer(lease / 3);
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                if (!_held.IsEmpty)
                {
                    try
                    {
                        await queue.RenewAsync(silo.SiloId, [.. _held.Keys], lease, stop);
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        LogJobError(logger, "renew", e);
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>HOT ⇄ SERVING as the host holds jobs or not, checked every 250 ms (not per job).</summary>
    private async Task ReportBusyLoopAsync(CancellationToken stop)
    {
        var reported = false;
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(250));
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                var busy = !_held.IsEmpty;
                if (busy != reported && _instance is not null)
                {
                    try
                    {
                        await _instance.ReportBusyAsync(silo.SiloId, busy);
                        reported = busy;
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        LogJobError(logger, "instance", e);
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "GPU host for instance {InstanceId} on {Device}: claiming jobs for {Models} models")]
    private static partial void LogStarted(ILogger logger, string instanceId, string device, int models);

    [LoggerMessage(Level = LogLevel.Information, Message = "GPU host for instance {InstanceId} is up WARM (no models loaded; resume to load)")]
    private static partial void LogWarm(ILogger logger, string instanceId);

    [LoggerMessage(Level = LogLevel.Error, Message = "GPU host {Phase} failed")]
    private static partial void LogControlFailed(ILogger logger, HostPhase phase, Exception error);

    [LoggerMessage(Level = LogLevel.Information, Message = "GPU host drained: {Drained} ({Held} jobs still held)")]
    private static partial void LogDrained(ILogger logger, bool drained, int held);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} failed: {Code}: {Reason}")]
    private static partial void LogJobFailed(ILogger logger, string jobId, string code, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "GPU host error ({Context})")]
    private static partial void LogJobError(ILogger logger, string context, Exception error);
}

/// <summary>Where a GPU host is: WARM (process up, no models), resuming (loading), HOT (models
/// loaded, claiming), stopping (draining, unloading).</summary>
public enum HostPhase
{
    Warm,
    Resuming,
    Hot,
    Stopping,
}
