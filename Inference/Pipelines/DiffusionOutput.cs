namespace Actors.Inference.Pipelines;

/// <summary>Diffusion: <see cref="InferenceOutput.Png"/> is the generated RGB image.</summary>
public sealed record DiffusionOutput : InferenceOutput
{
    public required int Steps { get; init; }

    public required long Seed { get; init; }

    /// <summary>The label asked for, as the model spells it; null: unconditional.</summary>
    public string? Prompt { get; init; }

    /// <summary>The classifier-free guidance scale used (models that take one).</summary>
    public double? Guidance { get; init; }

    public required int Width { get; init; }

    public required int Height { get; init; }
}
