using System.Buffers.Binary;
using System.IO.Compression;

namespace Actors.Inference.Tests;

/// <summary>CT-style phantom volumes written as NIfTI-1 by the test itself: a body cylinder
/// (0.2) and ellipsoid organs at models/export.py's intensities, Gaussian noise, stored as int16
/// (× 1000, cal_min 0, cal_max 1000), uint8 (× 250, cal 0..250) or float32 (cal 0..1). Each
/// ellipsoid's analytic volume is the truth the passport is held to.</summary>
internal static class PhantomVolumes
{
    /// <summary>An ellipsoid organ: label, centre and semi-axes in voxels (i, j, k).</summary>
    public sealed record Ellipsoid(int Label, double Ci, double Cj, double Ck, double Ri, double Rj, double Rk)
    {
        public double VolumeMl(double dx, double dy, double dz) => 4.0 / 3.0 * Math.PI * Ri * dx * Rj * dy * Rk * dz / 1000.0;

        public bool Contains(double i, double j, double k) =>
            Sq((i - Ci) / Ri) + Sq((j - Cj) / Rj) + Sq((k - Ck) / Rk) <= 1;
    }

    public static readonly Ellipsoid[] Organs =
    [
        new(1, 45, 55, 24, 22, 16, 14), // liver
        new(2, 90, 45, 20, 11, 13, 9),  // kidney
        new(3, 80, 90, 28, 16, 12, 11), // spleen
    ];

    /// <summary>Intensities in [0, 1], i fastest.</summary>
    public static float[] Draw(int nx, int ny, int nz, IReadOnlyList<Ellipsoid> organs, int seed)
    {
        var rng = new Random(seed);
        var values = new float[nx * ny * nz];
        var n = 0;
        for (var k = 0; k < nz; k++)
        {
            for (var j = 0; j < ny; j++)
            {
                for (var i = 0; i < nx; i++, n++)
                {
                    double ci = i + 0.5, cj = j + 0.5, ck = k + 0.5;
                    float v = Sq((ci - nx / 2.0) / (nx * 0.45)) + Sq((cj - ny / 2.0) / (ny * 0.43)) <= 1 ? 0.2f : 0f;
                    foreach (var o in organs)
                    {
                        if (o.Contains(ci, cj, ck))
                        {
                            v = Phantoms.Intensity[o.Label];
                        }
                    }

                    var noise = Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()) * 0.03;
                    values[n] = (float)Math.Clamp(v + noise, 0, 1);
                }
            }
        }

        return values;
    }

    /// <summary>A NIfTI-1 file: dtype 2 (uint8), 4 (int16) or 16 (float32); voxel size in mm; an
    /// sform that puts voxel (0,0,0) at <paramref name="origin"/>.</summary>
    public static byte[] Nifti(float[] unit, int nx, int ny, int nz, double dx, double dy, double dz, short datatype = 4, bool gzip = false,
        double[]? origin = null, bool bigEndian = false)
    {
        var (bytesPer, scale) = datatype switch { 2 => (1, 250f), 4 => (2, 1000f), 16 => (4, 1f), _ => throw new ArgumentOutOfRangeException(nameof(datatype)) };
        var o = origin ?? [-90, -120, -60];
        var file = new byte[352 + unit.Length * bytesPer];
        void I32(int at, int v) { if (bigEndian) { BinaryPrimitives.WriteInt32BigEndian(file.AsSpan(at), v); } else { BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(at), v); } }
        void I16(int at, short v) { if (bigEndian) { BinaryPrimitives.WriteInt16BigEndian(file.AsSpan(at), v); } else { BinaryPrimitives.WriteInt16LittleEndian(file.AsSpan(at), v); } }
        void F32(int at, float v) { if (bigEndian) { BinaryPrimitives.WriteSingleBigEndian(file.AsSpan(at), v); } else { BinaryPrimitives.WriteSingleLittleEndian(file.AsSpan(at), v); } }
        I32(0, 348);
        I16(40, 3);
        I16(42, (short)nx);
        I16(44, (short)ny);
        I16(46, (short)nz);
        I16(48, 1);
        I16(70, datatype);
        I16(72, (short)(bytesPer * 8));
        F32(76, 1);
        F32(80, (float)dx);
        F32(84, (float)dy);
        F32(88, (float)dz);
        F32(108, 352);
        F32(112, 1);
        F32(124, scale);
        F32(128, 0);
        file[123] = 2; // mm
        I16(254, 1); // sform: scanner
        float[] srow = [(float)dx, 0, 0, (float)o[0], 0, (float)dy, 0, (float)o[1], 0, 0, (float)dz, (float)o[2]];
        for (var n = 0; n < 12; n++)
        {
            F32(280 + 4 * n, srow[n]);
        }

        "n+1\0"u8.CopyTo(file.AsSpan(344));
        for (var n = 0; n < unit.Length; n++)
        {
            var at = 352 + n * bytesPer;
            switch (datatype)
            {
                case 2:
                    file[at] = (byte)Math.Round(unit[n] * scale);
                    break;
                case 4:
                    I16(at, (short)Math.Round(unit[n] * scale));
                    break;
                default:
                    F32(at, unit[n]);
                    break;
            }
        }

        if (!gzip)
        {
            return file;
        }

        using var output = new MemoryStream();
        using (var z = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            z.Write(file);
        }

        return output.ToArray();
    }

    private static double Sq(double v) => v * v;
}
