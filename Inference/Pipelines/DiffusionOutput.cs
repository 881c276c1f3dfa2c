namespace Actors.Inference.Pipelines;

/// <summary>Diffusion: <see cref="InferenceOutput.Png"/> is the generated RGB image.</summary>
public sealed record DiffusionOutput : InferenceOutput
{
    public required int Steps { get; init; }

    public required long Seed { get; init; }

    public required int Width { get; init; }

    public required int Height { get; init; }
}
