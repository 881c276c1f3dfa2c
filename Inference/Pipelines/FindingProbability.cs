namespace Actors.Inference.Pipelines;

public sealed record FindingProbability(string Label, double Probability, bool Present);
