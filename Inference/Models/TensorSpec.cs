namespace Actors.Inference.Models;

/// <summary>One input or output: name, dtype ("float32"/"int64") and shape, -1 = any (batch).</summary>
public sealed record TensorSpec
{
    public required string Name { get; init; }

    public required string Dtype { get; init; }

    public required IReadOnlyList<long> Shape { get; init; }
}
