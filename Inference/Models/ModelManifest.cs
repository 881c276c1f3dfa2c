namespace Actors.Inference.Models;

/// <summary>models/&lt;name&gt;/manifest.json: what a model takes, returns and means.</summary>
public sealed record ModelManifest
{
    public required string Name { get; init; }

    public required string Version { get; init; }

    /// <summary>segmentation, classification or diffusion: selects the pipeline.</summary>
    public required string Task { get; init; }

    public string Description { get; init; } = "";

    /// <summary>The TorchScript file, relative to the manifest's folder.</summary>
    public string File { get; init; } = "model.pt";

    public required IReadOnlyList<TensorSpec> Inputs { get; init; }

    public required IReadOnlyList<TensorSpec> Outputs { get; init; }

    public IReadOnlyList<string> Labels { get; init; } = [];

    public required ImagePreprocess Preprocess { get; init; }

    public required Postprocess Postprocess { get; init; }

    public BatchLimits Batch { get; init; } = new();

    /// <summary>Whose results may answer whose jobs (default: the same tenant's only).</summary>
    public ResultCaching Cache { get; init; } = new();

    /// <summary>Per kind of device ("cpu", "cuda"): precision, channels-last, max batch.</summary>
    public IReadOnlyDictionary<string, DeviceRuntime> Runtime { get; init; } = new Dictionary<string, DeviceRuntime>();

    /// <summary>The settings for <paramref name="device"/> (defaults where the manifest has none).</summary>
    public DeviceRuntime RuntimeFor(string device) =>
        Runtime.TryGetValue(DeviceRuntime.KindOf(device), out var runtime) ? runtime : new DeviceRuntime();

    public ReferenceSet? Reference { get; init; }
}
