namespace Actors.Inference.Pipelines;

/// <summary>Seed 001's anatomical passport for a CT volume: the volume's geometry and, per
/// structure, whether it is there and how big, where (scanner mm, from the sform/qform) and on
/// which slices.</summary>
public sealed record VolumePassport
{
    /// <summary>Voxels along i, j, k.</summary>
    public required int[] Dimensions { get; init; }

    /// <summary>Voxel size in mm (pixdim in the header's units).</summary>
    public required double[] VoxelSizeMm { get; init; }

    /// <summary>Where scanner coordinates came from: sform, qform, or voxel (neither set).</summary>
    public required string Orientation { get; init; }

    /// <summary>The intensity window mapped to the model's [0, 1].</summary>
    public required double[] Window { get; init; }

    public required IReadOnlyList<VolumeStructure> Structures { get; init; }
}

/// <summary>One labelled structure in a volume.</summary>
public sealed record VolumeStructure
{
    public required string Label { get; init; }

    public required int Index { get; init; }

    /// <summary>At least the model's minimum voxel count.</summary>
    public required bool Present { get; init; }

    public required long Voxels { get; init; }

    /// <summary>Voxels × voxel volume, in millilitres.</summary>
    public required double VolumeMl { get; init; }

    /// <summary>Centroid in scanner coordinates (mm).</summary>
    public double[]? CentroidMm { get; init; }

    /// <summary>Axis-aligned box around its voxel centres in scanner coordinates: [x0, y0, z0, x1, y1, z1] mm.</summary>
    public double[]? BoundingBoxMm { get; init; }

    /// <summary>[i0, j0, k0, i1, j1, k1], inclusive voxel indices.</summary>
    public int[]? BoundingBoxVoxels { get; init; }

    /// <summary>The slices (k) it appears on: first, last, and how many hold any of it.</summary>
    public SliceSpan? Slices { get; init; }
}

public sealed record SliceSpan(int First, int Last, int Count);

/// <summary>Segmentation of a volume: the 3-D passport, and the label volume (NIfTI, gzipped,
/// value = label index, the source's geometry) as the job's file output.</summary>
public sealed record VolumeSegmentationOutput : InferenceOutput
{
    public required VolumePassport Passport { get; init; }

    public required int Slices { get; init; }

    [System.Text.Json.Serialization.JsonIgnore]
    public byte[]? LabelVolume { get; init; }
}
