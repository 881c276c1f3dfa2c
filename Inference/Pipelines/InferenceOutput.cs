using System.Text.Json.Serialization;

namespace Actors.Inference.Pipelines;

/// <summary>What a pipeline returns: a JSON-able summary and, for some tasks, a PNG.</summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "task")]
[JsonDerivedType(typeof(SegmentationOutput), "segmentation")]
[JsonDerivedType(typeof(VolumeSegmentationOutput), "segmentation_volume")]
[JsonDerivedType(typeof(ClassificationOutput), "classification")]
[JsonDerivedType(typeof(DiffusionOutput), "diffusion")]
[JsonDerivedType(typeof(TensorOutput), "tensor")]
public abstract record InferenceOutput
{
    public required string Model { get; init; }

    public required string Version { get; init; }

    public required string Device { get; init; }

    /// <summary>The image result (label map or generated image), if any.</summary>
    [JsonIgnore]
    public byte[]? Png { get; init; }
}
