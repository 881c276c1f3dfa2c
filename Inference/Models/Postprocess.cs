namespace Actors.Inference.Models;

/// <summary>How outputs become an answer. <c>argmax</c> (segmentation: label map + passport),
/// <c>sigmoid</c> (classification: per-label probability vs threshold), <c>ddim</c> (diffusion
/// sampler over the noise predictor).</summary>
public sealed record Postprocess
{
    public required string Kind { get; init; }

    /// <summary>argmax: a label with fewer pixels counts as absent.</summary>
    public int MinPixels { get; init; } = 1;

    /// <summary>sigmoid: probability at or above which a finding is reported present.</summary>
    public float Threshold { get; init; } = 0.5f;

    /// <summary>ddim: training timesteps and the linear beta schedule.</summary>
    public int Timesteps { get; init; } = 1000;

    public double BetaStart { get; init; } = 1e-4;

    public double BetaEnd { get; init; } = 0.02;

    public int DefaultSteps { get; init; } = 25;

    public int MaxSteps { get; init; } = 200;

    /// <summary>ddim with a <c>class</c> input: the classifier-free guidance scale when the
    /// request gives none (0: the unconditional prediction, 1: the conditional one).</summary>
    public double Guidance { get; init; } = 3.0;

    public double MaxGuidance { get; init; } = 10.0;
}
