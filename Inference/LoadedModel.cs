using Actors.Inference.Batching;
using Actors.Inference.Errors;
using Actors.Inference.Models;
using Actors.Inference.Tensors;

namespace Actors.Inference;

/// <summary>A model on its device with its batcher. Inputs are checked against the manifest
/// before they reach libtorch. For a ddim model the batcher's unit is a whole sampling run
/// (<see cref="SampleDirect"/>): concurrent requests share every step's forward, on the device.</summary>
public sealed class LoadedModel : IAsyncDisposable
{
    private readonly TorchModule _module;
    private readonly double[]? _alphaBar;

    private LoadedModel(ModelDefinition definition, TorchModule module, DynamicBatcher batcher, double[]? alphaBar, double? referenceError)
    {
        Definition = definition;
        _module = module;
        Batcher = batcher;
        _alphaBar = alphaBar;
        ReferenceError = referenceError;
    }

    public ModelDefinition Definition { get; }

    public ModelManifest Manifest => Definition.Manifest;

    public string Name => Manifest.Name;

    public string Device => _module.Device;

    public DynamicBatcher Batcher { get; }

    public Precision Precision => _module.Precision;

    public bool ChannelsLast => _module.ChannelsLast;

    public bool CudaGraphs => _module.CudaGraphs;

    public bool Frozen => _module.Frozen;

    /// <summary>CUDA graphs captured so far, and the first capture that failed (null if none).</summary>
    public int GraphCount => _module.GraphCount;

    public string? GraphFailure => _module.GraphFailure;

    /// <summary>Max |output − reference| over the reference's scale, measured at load when the
    /// model runs other than plain (<see cref="DeviceRuntime.IsPlain"/>).</summary>
    public double? ReferenceError { get; }

    /// <summary>How long a GPU batch, with nothing of its model running, waits after its last
    /// arrival before it closes (<see cref="BatcherOptions.IdleGap"/>): long enough for a burst of
    /// callers woken together to land in one batch, short against a forward.</summary>
    public static readonly TimeSpan GpuIdleGap = TimeSpan.FromMicroseconds(200);

    /// <summary>True when <see cref="ForwardAsync"/> takes sampling runs (<see cref="SampleDirect"/>).</summary>
    public bool Samples => _alphaBar is not null;

    public static LoadedModel Load(ModelDefinition definition, string device, int maxQueued, TimeProvider? time = null, int gpuConcurrentBatches = 2)
    {
        var manifest = definition.Manifest;
        var runtime = manifest.RuntimeFor(device);
        if (!Precisions.TryParse(runtime.Precision, out var precision))
        {
            throw new ModelLoadException($"model '{definition.Name}': unknown precision '{runtime.Precision}'");
        }

        var module = TorchModule.Load(definition.ModelFile, device, precision, runtime.ChannelsLast);
        var maxBatch = runtime.MaxBatchSize ?? manifest.Batch.MaxBatchSize;
        double? error;
        try
        {
            Prepare(definition.Name, module, runtime, maxBatch);
            // The reference also checks a graph: its first batch is captured, then replayed.
            error = runtime.IsPlain ? null : CheckAgainstReference(definition, module, runtime.Tolerance ?? precision.DefaultTolerance());
        }
        catch
        {
            module.Dispose();
            throw;
        }

        var alphaBar = manifest.Postprocess.Kind == "ddim" ? new DdimSchedule(manifest.Postprocess).AlphaBar : null;
        var onGpu = DeviceRuntime.KindOf(module.Device) == "cuda";
        var options = new BatcherOptions
        {
            MaxBatchSize = maxBatch,
            MaxQueueDelay = TimeSpan.FromMilliseconds(manifest.Batch.MaxQueueDelayMs),
            MaxQueued = maxQueued,
            MaxConcurrentBatches = onGpu ? Math.Max(1, gpuConcurrentBatches) : 1,
            // On a GPU a batch does not wait out the max delay while the device is free: it closes
            // once callers have stopped arriving for GpuIdleGap, or the runtime's idleGapMicros
            // (docs/inference.md).
            IdleGap = runtime.IdleGapMicros is { } gap ? TimeSpan.FromMicroseconds(gap) : onGpu ? GpuIdleGap : null,
            // Sampling runs of different step counts share a batch (the shorter schedules padded
            // with -1) when the longest is at most batch.maxStepRatio times the shortest.
            Ragged = alphaBar is null ? null : new RaggedInput(Input: 1, Pad: -1, MaxWidthRatio: manifest.Batch.MaxStepRatio ?? BatchLimits.DefaultMaxStepRatio),
        };
        LoadedModel? model = null;
        var batcher = new DynamicBatcher(definition.Name, (inputs, rows) => model!.RunSplit(inputs, rows), options, time);
        model = new LoadedModel(definition, module, batcher, alphaBar, error);
        if (model.CudaGraphs)
        {
            Diagnostics.InferenceMetrics.TrackGraphs(model);
        }

        return model;
    }

    /// <summary>Freezing and CUDA graphs, as the device's runtime asks, before the first forward.</summary>
    private static void Prepare(string name, TorchModule module, DeviceRuntime runtime, int maxBatch)
    {
        if (runtime.Freeze)
        {
            try
            {
                module.Freeze();
            }
            catch (ModelLoadException e)
            {
                throw new ModelLoadException($"model '{name}' cannot be frozen on {module.Device}: {e.Message}", e);
            }
        }

        if (runtime.CudaGraphs)
        {
            try
            {
                module.UseCudaGraphs(maxBatch);
            }
            catch (DeviceUnavailableException e)
            {
                throw new ModelLoadException($"model '{name}': {e.Message}", e);
            }
        }
    }

    /// <summary>One forward now, on the caller's thread, without batching.</summary>
    public Tensor[] ForwardDirect(IReadOnlyList<Tensor> inputs)
    {
        CheckInputs(inputs, sampling: false);
        return _module.Forward(inputs);
    }

    /// <summary>A ddim model: whole DDIM runs now, on the caller's thread, on the device.
    /// <paramref name="inputs"/> are the model's, with input 1 the int64 [rows, steps]
    /// schedule (<see cref="DdimSchedule.Row"/>); the output is the image in [-1, 1].</summary>
    public Tensor[] SampleDirect(IReadOnlyList<Tensor> inputs)
    {
        CheckInputs(inputs, sampling: true);
        return _module.SampleSplit(inputs, null, _alphaBar!)[0];
    }

    private Tensor[][] RunSplit(IReadOnlyList<Tensor> inputs, IReadOnlyList<int> rows)
    {
        CheckInputs(inputs, Samples);
        return Samples ? _module.SampleSplit(inputs, rows, _alphaBar!) : _module.ForwardSplit(inputs, rows);
    }

    /// <summary>Through the batcher, merged with concurrent callers: a forward, or for a ddim
    /// model a sampling run (the inputs of <see cref="SampleDirect"/>).</summary>
    public Task<Tensor[]> ForwardAsync(IReadOnlyList<Tensor> inputs, CancellationToken cancellationToken = default)
    {
        CheckInputs(inputs, Samples);
        return Batcher.RunAsync(inputs, cancellationToken);
    }

    /// <summary>Runs the manifest's reference inputs at the module's precision and compares the
    /// outputs with the float32 ones the export saved. A precision that fails the model (an op
    /// without a kernel for the type) or moves it too far refuses the load, naming both.</summary>
    private static double? CheckAgainstReference(ModelDefinition definition, TorchModule module, double tolerance)
    {
        if (definition.Manifest.Reference is not { } reference)
        {
            return null;
        }

        var setting = $"{module.Precision.Name()}{(module.ChannelsLast ? " channels-last" : "")}{(module.Frozen ? " frozen" : "")}{(module.CudaGraphs ? " with CUDA graphs" : "")} on {module.Device}";
        Tensor[] actual;
        try
        {
            actual = module.Forward(reference.Inputs.Select(definition.ReadReference).ToArray());
        }
        catch (TorchRuntimeException e)
        {
            throw new ModelLoadException($"model '{definition.Name}' fails at {setting}: {e.Message}", e);
        }

        var worst = 0.0;
        for (var i = 0; i < reference.Outputs.Count && i < actual.Length; i++)
        {
            var expected = definition.ReadReference(reference.Outputs[i]).Floats;
            var got = actual[i].Floats;
            var scale = Math.Max(1e-6, expected.Max(Math.Abs));
            var diff = expected.Zip(got, (x, y) => (double)Math.Abs(x - y)).DefaultIfEmpty(0).Max();
            worst = Math.Max(worst, diff / scale);
        }

        if (!(worst <= tolerance))
        {
            throw new ModelLoadException(
                $"model '{definition.Name}' at {setting} differs from its float32 reference by {worst:P2} of the output's scale; the tolerance is {tolerance:P2}");
        }

        return worst;
    }

    public async ValueTask DisposeAsync()
    {
        Diagnostics.InferenceMetrics.UntrackGraphs(this);
        await Batcher.DisposeAsync();
        _module.Dispose();
    }

    private void CheckInputs(IReadOnlyList<Tensor> inputs, bool sampling)
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

            // Sampling: input 1 is the schedule, [rows, steps], in place of the timestep.
            IReadOnlyList<long> shape = sampling && i == 1 ? [-1, -1] : spec.Shape;
            var ok = t.Shape.Count == shape.Count;
            for (var d = 0; ok && d < shape.Count; d++)
            {
                ok = shape[d] == -1 ? t.Shape[d] >= 1 : t.Shape[d] == shape[d];
            }

            ok = ok && (i == 0 || t.Shape[0] == inputs[0].Shape[0]);
            if (!ok)
            {
                throw new InvalidInputException(
                    $"input '{spec.Name}' of model '{Name}' must have shape {Tensor.FormatShape(shape)} (rows as input 0); got {t.ShapeText()}");
            }
        }
    }
}
