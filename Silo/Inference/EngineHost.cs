using System.Diagnostics;
using Actors.Inference;
using Actors.Silo.Cluster;
using Microsoft.Extensions.Options;

namespace Actors.Silo.Inference;

/// <summary>Owns the process's <see cref="InferenceEngine"/>: loads the models at start (startup
/// fails with the engine's error if they cannot load) — or, for a GPU host started WARM, when it
/// is resumed — unloads them when it is stopped, drains batchers at stop.</summary>
internal sealed partial class EngineHost(IOptions<InferenceOptions> options, IOptions<ClusterOptions> cluster, TimeProvider time, ILogger<EngineHost> logger)
    : IHostedService, IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Lock _stopLock = new();
    private volatile InferenceEngine? _engine;
    private Task? _stopped;

    /// <summary>The loaded engine, or null while WARM or loading. Read it once per use: a stop
    /// may unload the models between two reads.</summary>
    public InferenceEngine? Current => _engine;

    /// <summary>How long the last load took (measured, not assumed).</summary>
    public TimeSpan? LastLoad { get; private set; }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var gpus = Actors.Inference.Diagnostics.InferenceMetrics.StartGpuGauges();
        LogGpuGauges(logger, gpus);
        return cluster.Value.StartWarm ? Task.CompletedTask : LoadAsync(cancellationToken);
    }

    public async Task<InferenceEngine> LoadAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_engine is { } loaded)
            {
                return loaded;
            }

            var clock = Stopwatch.StartNew();
            var engine = await Task.Run(() => InferenceEngine.Start(options.Value, time), cancellationToken);
            LastLoad = clock.Elapsed;
            _engine = engine;
            var models = string.Join(", ", engine.Models.Select(m => m.Name));
            LogStarted(logger, engine.Device, TorchRuntime.TorchVersion, TorchRuntime.Threads, models, LastLoad.Value.TotalSeconds);
            return engine;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Drains the batchers and frees the models (their device memory with them).</summary>
    public async Task UnloadAsync()
    {
        await _gate.WaitAsync();
        try
        {
            if (_engine is { } engine)
            {
                _engine = null;
                await engine.DisposeAsync();
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Unloads once: a host stopped twice at the same time (its own run loop and a test
    /// harness both stopping it) shares the one unload rather than racing the disposal.</summary>
    public Task StopAsync(CancellationToken cancellationToken)
    {
        lock (_stopLock)
        {
            return _stopped ??= UnloadAsync();
        }
    }

    public void Dispose() => _gate.Dispose();

    [LoggerMessage(Level = LogLevel.Information, Message = "GPU gauges: {Devices} NVIDIA devices (none: no NVML here, the series are absent)")]
    private static partial void LogGpuGauges(ILogger logger, int devices);

    [LoggerMessage(Level = LogLevel.Information, Message = "Inference engine on {Device} (libtorch {Torch}, {Threads} threads) with models: {Models} (loaded in {Seconds:0.00} s)")]
    private static partial void LogStarted(ILogger logger, string device, string torch, int threads, string models, double seconds);
}
