using System.Diagnostics;
using Actors.Inference.Errors;
using Actors.Inference.Models;
using Actors.Inference.Pipelines;

namespace Actors.Inference;

/// <summary>The models of one GPU host on one device, each with its batcher, and the task
/// pipelines that turn uploads into answers.</summary>
public sealed class InferenceEngine : IAsyncDisposable
{
    private readonly Dictionary<string, LoadedModel> _models;
    private readonly InferenceOptions _options;

    private readonly LoadedModel[] _all;

    private InferenceEngine(InferenceOptions options, string device, Dictionary<string, LoadedModel> models)
    {
        _options = options;
        Device = device;
        _models = models;
        _all = [.. models.Values];
    }

    public string Device { get; }

    /// <summary>The loaded models (a fixed list: safe to read while the engine is disposed).</summary>
    public IReadOnlyCollection<LoadedModel> Models => _all;

    /// <summary>Applies the runtime settings, picks the device and loads every model under
    /// <see cref="InferenceOptions.ModelsPath"/> (or only <paramref name="only"/>).</summary>
    public static InferenceEngine Start(InferenceOptions options, TimeProvider? time = null, IEnumerable<string>? only = null)
    {
        TorchRuntime.Configure(options);
        var device = TorchRuntime.ResolveDevice(options.Device);
        var wanted = only?.ToHashSet(StringComparer.Ordinal);
        var models = new Dictionary<string, LoadedModel>(StringComparer.Ordinal);
        try
        {
            foreach (var definition in ModelRegistry.Scan(options.ModelsPath))
            {
                if (wanted is null || wanted.Contains(definition.Name))
                {
                    models.Add(definition.Name, LoadedModel.Load(definition, device, options.MaxQueuedPerModel, time, options.GpuConcurrentBatches));
                }
            }
        }
        catch
        {
            foreach (var m in models.Values)
            {
                m.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }

            throw;
        }

        return new InferenceEngine(options, device, models);
    }

    public LoadedModel Get(string name) =>
        _models.TryGetValue(name, out var model) ? model : throw new UnknownModelException(name, _models.Keys);

    public bool TryGet(string name, out LoadedModel? model) => _models.TryGetValue(name, out model);

    public async Task<InferenceOutput> RunAsync(string modelName, InferenceRequest request, CancellationToken cancellationToken = default)
    {
        var model = Get(modelName);
        return model.Manifest.Task switch
        {
            "segmentation" => await SegmentationPipeline.RunAsync(model, request, _options.MaxImagePixels, _options.MaxVolumeVoxelBytes, cancellationToken),
            "classification" => await ClassificationPipeline.RunAsync(model, request, _options.MaxImagePixels, cancellationToken),
            "diffusion" => await DiffusionPipeline.RunAsync(model, request, cancellationToken),
            "tensor" => await TensorPipeline.RunAsync(model, request, _options.MaxImagePixels, cancellationToken),
            var task => throw new UnreachableException($"task {task} passed manifest validation"),
        };
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var model in _all)
        {
            await model.DisposeAsync();
        }
    }
}
