namespace Actors.Inference.Volumes;

/// <summary>A NIfTI-1 volume's geometry: voxels along i, j, k (i fastest), the voxel size in mm,
/// and the voxel → scanner (RAS+, mm) affine from the sform, else the qform, else the voxel sizes.</summary>
public sealed record VolumeGeometry(int Nx, int Ny, int Nz, double Dx, double Dy, double Dz, double[] Affine, string Orientation)
{
    public long Voxels => (long)Nx * Ny * Nz;

    public double VoxelMl => Dx * Dy * Dz / 1000.0;

    /// <summary>The scanner position (mm) of voxel (i, j, k) — fractional indices allowed.</summary>
    public double[] ToWorld(double i, double j, double k) =>
    [
        Affine[0] * i + Affine[1] * j + Affine[2] * k + Affine[3],
        Affine[4] * i + Affine[5] * j + Affine[6] * k + Affine[7],
        Affine[8] * i + Affine[9] * j + Affine[10] * k + Affine[11],
    ];
}

/// <summary>A decoded volume: geometry, the header it came with (kept for the label volume), and
/// the voxel values after scl_slope/scl_inter, as float32, i fastest.</summary>
public sealed class NiftiVolume(VolumeGeometry geometry, byte[] header, float[] voxels, string dataType, (double Min, double Max) window)
{
    public VolumeGeometry Geometry { get; } = geometry;

    /// <summary>The source's 348-byte header (little-endian), for writing the label volume.</summary>
    public byte[] Header { get; } = header;

    public float[] Voxels { get; } = voxels;

    public string DataType { get; } = dataType;

    /// <summary>The intensity window mapped to [0, 1] for the model: cal_min..cal_max when the
    /// header sets them, else the volume's own minimum..maximum.</summary>
    public (double Min, double Max) Window { get; } = window;
}
