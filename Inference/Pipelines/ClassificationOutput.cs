namespace Actors.Inference.Pipelines;

public sealed record ClassificationOutput : InferenceOutput
{
    public required IReadOnlyList<FindingProbability> Findings { get; init; }
}
