namespace Actors.Inference.Pipelines;

/// <summary>Seed 001's "anatomical passport": per structure, present or not and how big.</summary>
public sealed record AnatomicalPassport
{
    public required int Width { get; init; }

    public required int Height { get; init; }

    public required double SpacingXMm { get; init; }

    public required double SpacingYMm { get; init; }

    public double? SliceThicknessMm { get; init; }

    public required IReadOnlyList<StructureMeasure> Structures { get; init; }
}
