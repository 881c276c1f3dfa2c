using Actors.Inference.Batching;
using Actors.Inference.Errors;
using Actors.Inference.Models;
using Actors.Inference.Tensors;

namespace Actors.Inference;

/// <summary>A model on its device with its batcher. Inputs are checked against the manifest
/// before they reach libtorch.</summary>
public sealed class LoadedModel : IAsyncDisposable
{
    private readonly TorchModule _module;

    private LoadedModel(ModelDefinition definition, TorchModule module, DynamicBatcher batcher)
    {
        Definition = definition;
        _module = module;
        Batcher = batcher;
    }

    public ModelDefinition Definition { get; }

    public ModelManifest Manifest => Definition.Manifest;

    public string Name => Manifest.Name;

    public string Device => _module.Device;

    public DynamicBatcher Batcher { get; }

    public static LoadedModel Load(ModelDefinition definition, string device, int maxQueued, TimeProvider? time = null, int gpuConcurrentBatches = 2)
    {
        var module = TorchModule.Load(definition.ModelFile, device);
        var options = new BatcherOptions
        {
            MaxBatchSize = definition.Manifest.Batch.MaxBatchSize,
            MaxQueueDelay = TimeSpan.FromMilliseconds(definition.Manifest.Batch.MaxQueueDelayMs),
            MaxQueued = maxQueued,
            MaxConcurrentBatches = module.Device.StartsWith("cuda", StringComparison.Ordinal) ? Math.Max(1, gpuConcurrentBatches) : 1,
        };
        LoadedModel? model = null;
        var batcher = new DynamicBatcher(definition.Name, (inputs, rows) => model!.ForwardSplit(inputs, rows), options, time);
        model = new LoadedModel(definition, module, batcher);
        return model;
    }

    /// <summary>One forward now, on the caller's thread, without batching.</summary>
    public Tensor[] ForwardDirect(IReadOnlyList<Tensor> inputs)
    {
        CheckInputs(inputs, allowAnyRows: true);
        return _module.Forward(inputs);
    }

    private Tensor[][] ForwardSplit(IReadOnlyList<Tensor> inputs, IReadOnlyList<int> rows)
    {
        CheckInputs(inputs, allowAnyRows: true);
        return _module.ForwardSplit(inputs, rows);
    }

    /// <summary>Through the batcher: merged with concurrent callers.</summary>
    public Task<Tensor[]> ForwardAsync(IReadOnlyList<Tensor> inputs, CancellationToken cancellationToken = default)
    {
        CheckInputs(inputs, allowAnyRows: true);
        return Batcher.RunAsync(inputs, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await Batcher.DisposeAsync();
        _module.Dispose();
    }

    private void CheckInputs(IReadOnlyList<Tensor> inputs, bool allowAnyRows)
    {
        var specs = Manifest.Inputs;
        if (inputs.Count != specs.Count)
        {
            throw new InvalidInputException($"model '{Name}' takes {specs.Count} input(s); got {inputs.Count}");
        }

        for (var i = 0; i < specs.Count; i++)
        {
            var spec = specs[i];
            var t = inputs[i];
            var dtype = t.DType == TensorDType.Float32 ? "float32" : "int64";
            if (dtype != spec.Dtype)
            {
                throw new InvalidInputException($"input '{spec.Name}' of model '{Name}' must be {spec.Dtype}; got {dtype}");
            }

            var ok = t.Shape.Count == spec.Shape.Count;
            for (var d = 0; ok && d < spec.Shape.Count; d++)
            {
                ok = spec.Shape[d] == -1 ? allowAnyRows || t.Shape[d] == 1 : t.Shape[d] == spec.Shape[d];
            }

            if (!ok)
            {
                throw new InvalidInputException(
                    $"input '{spec.Name}' of model '{Name}' must have shape {Tensor.FormatShape(spec.Shape)}; got {t.ShapeText()}");
            }
        }
    }
}
