namespace Actors.Inference.Pipelines;

/// <summary>A tensor-in, tensor-out model's answer: its first output, flattened, and its shape.</summary>
public sealed record TensorOutput : InferenceOutput
{
    public required IReadOnlyList<long> Shape { get; init; }

    public required IReadOnlyList<float> Values { get; init; }
}
