namespace Actors.Inference.Pipelines;

/// <summary>One labelled structure: pixels, area (mm²), volume (ml, with a slice thickness),
/// centroid and bounding box in pixels.</summary>
public sealed record StructureMeasure
{
    public required string Label { get; init; }

    public required int Index { get; init; }

    public required bool Present { get; init; }

    public required long Pixels { get; init; }

    public required double AreaMm2 { get; init; }

    public double? VolumeMl { get; init; }

    public double[]? CentroidPx { get; init; }

    /// <summary>[x0, y0, x1, y1], inclusive.</summary>
    public int[]? BoundingBoxPx { get; init; }
}
