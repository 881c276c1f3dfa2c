using Actors.Inference;
using Microsoft.Extensions.Options;

namespace Actors.Silo.Inference;

/// <summary>Owns the process's <see cref="InferenceEngine"/>: loads the models at start
/// (startup fails with the engine's error if they cannot load), drains batchers at stop.</summary>
internal sealed partial class EngineHost(IOptions<InferenceOptions> options, TimeProvider time, ILogger<EngineHost> logger) : IHostedService
{
    private InferenceEngine? _engine;

    public InferenceEngine Engine => _engine ?? throw new InvalidOperationException("the inference engine has not started");

    public bool Ready => _engine is not null;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _engine = InferenceEngine.Start(options.Value, time);
        var models = string.Join(", ", _engine.Models.Select(m => m.Name));
        LogStarted(logger, _engine.Device, TorchRuntime.TorchVersion, TorchRuntime.Threads, models);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_engine is not null)
        {
            await _engine.DisposeAsync();
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Inference engine on {Device} (libtorch {Torch}, {Threads} threads) with models: {Models}")]
    private static partial void LogStarted(ILogger logger, string device, string torch, int threads, string models);
}
