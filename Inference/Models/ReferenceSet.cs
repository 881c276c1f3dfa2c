namespace Actors.Inference.Models;

/// <summary>Inputs and the outputs the export script computed from them, as raw
/// little-endian files, for checking that this runtime gives the same answers.</summary>
public sealed record ReferenceSet
{
    public required IReadOnlyList<ReferenceTensor> Inputs { get; init; }

    public required IReadOnlyList<ReferenceTensor> Outputs { get; init; }

    public double Tolerance { get; init; } = 1e-4;
}
