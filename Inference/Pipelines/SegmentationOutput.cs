namespace Actors.Inference.Pipelines;

/// <summary>Segmentation: the anatomical passport; <see cref="InferenceOutput.Png"/> is the
/// label map (8-bit grey, pixel value = label index) at the input's resolution.</summary>
public sealed record SegmentationOutput : InferenceOutput
{
    public required AnatomicalPassport Passport { get; init; }
}
