namespace Actors.Inference.Models;

public sealed record ReferenceTensor
{
    public required string File { get; init; }

    public required string Dtype { get; init; }

    public required IReadOnlyList<long> Shape { get; init; }
}
