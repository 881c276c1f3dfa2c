using System.Buffers.Binary;
using System.IO.Compression;
using Actors.Inference.Errors;

namespace Actors.Inference.Volumes;

/// <summary>NIfTI-1 single-file volumes (<c>.nii</c>, or gzipped <c>.nii.gz</c>): 3-D (or 4-D
/// with one time point), uint8, int16 or float32, either byte order. Reads the geometry
/// (pixdim in the header's units, sform else qform else voxel sizes), applies scl_slope/inter,
/// and refuses anything else with the reason. Writes uint8 label volumes with the source's
/// geometry. Decompression is bounded: a gzip bomb stops at the limit.</summary>
public static class Nifti
{
    public const string ContentType = "application/x-nifti";
    private const int HeaderSize = 348;
    private const int MaxDimension = 4096;

    /// <summary>True when the bytes are gzip or carry the NIfTI-1 single-file magic.</summary>
    public static bool LooksLikeNifti(ReadOnlySpan<byte> bytes) =>
        bytes.Length >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b
        || bytes.Length >= HeaderSize && bytes[344] == (byte)'n' && bytes[345] is (byte)'+' or (byte)'i' && bytes[346] == (byte)'1' && bytes[347] == 0;

    /// <summary>Checks header and data without keeping the voxels (the API's check before a job
    /// exists); returns the geometry.</summary>
    public static VolumeGeometry Inspect(ReadOnlyMemory<byte> upload, long maxVoxelBytes) => Decode(upload, maxVoxelBytes, keepVoxels: false).Geometry;

    public static NiftiVolume Read(ReadOnlyMemory<byte> upload, long maxVoxelBytes) => Decode(upload, maxVoxelBytes, keepVoxels: true);

    private static NiftiVolume Decode(ReadOnlyMemory<byte> upload, long maxVoxelBytes, bool keepVoxels)
    {
        var gz = upload.Length >= 2 && upload.Span[0] == 0x1f && upload.Span[1] == 0x8b;
        using var input = gz ? Gunzip(upload, maxVoxelBytes) : (Stream)Over(upload);
        var header = new byte[HeaderSize];
        if (ReadFully(input, header) < HeaderSize)
        {
            throw Bad($"the header is cut short: a NIfTI-1 header is {HeaderSize} bytes{(gz ? " (after gunzip)" : "")}");
        }

        var little = BinaryPrimitives.ReadInt32LittleEndian(header) == HeaderSize;
        if (!little && BinaryPrimitives.ReadInt32BigEndian(header) != HeaderSize)
        {
            throw Bad("not a NIfTI-1 file: sizeof_hdr is not 348 (NIfTI-2 and ANALYZE are not accepted)");
        }

        if (header[344] != 'n' || header[346] != '1' || header[347] != 0 || header[345] is not ((byte)'+' or (byte)'i'))
        {
            throw Bad("not a NIfTI-1 file: the magic is not \"n+1\"");
        }

        if (header[345] == 'i')
        {
            throw Bad("a header-only .hdr/.img pair (magic \"ni1\") is not accepted: send one .nii or .nii.gz file");
        }

        short I16(int at) => little ? BinaryPrimitives.ReadInt16LittleEndian(header.AsSpan(at)) : BinaryPrimitives.ReadInt16BigEndian(header.AsSpan(at));
        float F32(int at) => little ? BinaryPrimitives.ReadSingleLittleEndian(header.AsSpan(at)) : BinaryPrimitives.ReadSingleBigEndian(header.AsSpan(at));

        var rank = I16(40);
        if (rank is 1 or 2)
        {
            throw Bad($"a {rank}-D image is not a volume: send a 3-D NIfTI, or a PNG for one slice");
        }

        if (rank is not (3 or 4))
        {
            throw Bad($"dim[0] must be 3 (or 4 with one time point); got {rank}");
        }

        int nx = I16(42), ny = I16(44), nz = I16(46);
        if (rank == 4 && I16(48) != 1)
        {
            throw Bad($"a 4-D series of {I16(48)} volumes is not accepted: send one 3-D volume");
        }

        if (nx < 1 || ny < 1 || nz < 1 || nx > MaxDimension || ny > MaxDimension || nz > MaxDimension)
        {
            throw Bad($"dimensions must be 1 to {MaxDimension} voxels; got {nx}×{ny}×{nz}");
        }

        var datatype = I16(70);
        var bitpix = I16(72);
        var (name, bytesPer) = datatype switch
        {
            2 => ("uint8", 1),
            4 => ("int16", 2),
            16 => ("float32", 4),
            _ => throw Bad($"datatype {datatype} ({DataTypeName(datatype)}) is not accepted: send uint8, int16 or float32"),
        };
        if (bitpix != bytesPer * 8)
        {
            throw Bad($"bitpix {bitpix} does not match datatype {name} ({bytesPer * 8} bits)");
        }

        var units = (header[123] & 7) switch
        {
            1 => 1000.0, // metres
            3 => 0.001,  // microns
            _ => 1.0,    // millimetres, or unknown (read as mm)
        };
        double dx = F32(80) * units, dy = F32(84) * units, dz = F32(88) * units;
        if (!IsSpacing(dx) || !IsSpacing(dy) || !IsSpacing(dz))
        {
            throw Bad($"pixdim[1..3] must be voxel sizes {PhysicalSpacing.Range}; got {dx}, {dy}, {dz} mm");
        }

        var voxOffset = F32(108);
        if (!float.IsFinite(voxOffset) || voxOffset < 352 || voxOffset != MathF.Floor(voxOffset) || voxOffset > 1 << 20)
        {
            throw Bad($"vox_offset must be a whole number of bytes, at least 352; got {voxOffset}");
        }

        var slope = F32(112);
        var inter = F32(116);
        if (!float.IsFinite(slope) || !float.IsFinite(inter))
        {
            throw Bad("scl_slope and scl_inter must be finite");
        }

        if (slope == 0)
        {
            (slope, inter) = (1, 0); // the standard's "no scaling"
        }

        var voxels = (long)nx * ny * nz;
        var dataBytes = voxels * bytesPer;
        if (dataBytes > maxVoxelBytes)
        {
            throw new VolumeTooLargeException($"the volume's voxel data is {dataBytes} bytes ({nx}×{ny}×{nz} {name}); the limit is {maxVoxelBytes}");
        }

        var (affine, orientation) = Affine(I16(252), I16(254), F32, dx, dy, dz, units);

        // Skip the extensions up to vox_offset, then read exactly the voxels.
        var skip = (long)voxOffset - HeaderSize;
        if (Skip(input, skip) < skip)
        {
            throw Bad($"the file ends inside the header extensions (vox_offset {voxOffset})");
        }

        float[] values = keepVoxels ? new float[voxels] : [];
        var buffer = new byte[Math.Min(dataBytes, 1 << 20) / bytesPer * bytesPer];
        long read = 0;
        double min = double.PositiveInfinity, max = double.NegativeInfinity;
        while (read < dataBytes)
        {
            var want = (int)Math.Min(buffer.Length, dataBytes - read);
            var got = ReadFully(input, buffer.AsSpan(0, want));
            if (got < want)
            {
                throw Bad($"the voxel data is truncated: {nx}×{ny}×{nz} {name} needs {dataBytes} bytes after vox_offset, the file has {read + got}");
            }

            var first = read / bytesPer;
            for (var b = 0; b < got; b += bytesPer)
            {
                var span = buffer.AsSpan(b, bytesPer);
                double raw = bytesPer switch
                {
                    1 => span[0],
                    2 => little ? BinaryPrimitives.ReadInt16LittleEndian(span) : BinaryPrimitives.ReadInt16BigEndian(span),
                    _ => little ? BinaryPrimitives.ReadSingleLittleEndian(span) : BinaryPrimitives.ReadSingleBigEndian(span),
                };
                var v = raw * slope + inter;
                if (!double.IsFinite(v))
                {
                    throw Bad($"voxel {first + b / bytesPer} is not a finite number");
                }

                min = Math.Min(min, v);
                max = Math.Max(max, v);
                if (keepVoxels)
                {
                    values[first + b / bytesPer] = (float)v;
                }
            }

            read += got;
        }

        float calMin = F32(128), calMax = F32(124);
        var window = float.IsFinite(calMin) && float.IsFinite(calMax) && calMax > calMin ? (calMin, calMax) : (min, max);
        var geometry = new VolumeGeometry(nx, ny, nz, dx, dy, dz, affine, orientation);
        return new NiftiVolume(geometry, little ? header : ToLittleEndian(header), values, name, window);
    }

    /// <summary>A uint8 label volume (value = label index) with the source's geometry, gzipped.</summary>
    public static byte[] WriteLabels(NiftiVolume source, byte[] labels)
    {
        var g = source.Geometry;
        if (labels.Length != g.Voxels)
        {
            throw new ArgumentException($"{labels.Length} labels for {g.Voxels} voxels", nameof(labels));
        }

        var header = (byte[])source.Header.Clone();
        BinaryPrimitives.WriteInt16LittleEndian(header.AsSpan(40), 3);
        BinaryPrimitives.WriteInt16LittleEndian(header.AsSpan(48), 1);
        BinaryPrimitives.WriteInt16LittleEndian(header.AsSpan(70), 2);  // uint8
        BinaryPrimitives.WriteInt16LittleEndian(header.AsSpan(72), 8);
        BinaryPrimitives.WriteSingleLittleEndian(header.AsSpan(108), 352);
        BinaryPrimitives.WriteSingleLittleEndian(header.AsSpan(112), 1);  // scl_slope
        BinaryPrimitives.WriteSingleLittleEndian(header.AsSpan(116), 0);
        BinaryPrimitives.WriteSingleLittleEndian(header.AsSpan(124), labels.Length == 0 ? 0 : labels.Max());
        BinaryPrimitives.WriteSingleLittleEndian(header.AsSpan(128), 0);
        header[344] = (byte)'n';
        header[345] = (byte)'+';
        header[346] = (byte)'1';
        header[347] = 0;
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(header);
            gzip.Write(new byte[4]); // no extensions
            gzip.Write(labels);
        }

        return output.ToArray();
    }

    /// <summary>Reads a label volume back (tests, clients): geometry and one byte per voxel.</summary>
    public static (VolumeGeometry Geometry, byte[] Labels) ReadLabels(ReadOnlyMemory<byte> file)
    {
        var volume = Read(file, long.MaxValue);
        return (volume.Geometry, [.. volume.Voxels.Select(v => (byte)v)]);
    }

    private static (double[] Affine, string Orientation) Affine(short qform, short sform, Func<int, float> f, double dx, double dy, double dz, double units)
    {
        if (sform > 0)
        {
            double[] s = [.. Enumerable.Range(0, 12).Select(n => (double)f(280 + 4 * n) * units)];
            if (s.All(double.IsFinite) && Math.Abs(Det(s)) > 1e-12)
            {
                return (s, "sform");
            }
        }

        if (qform > 0)
        {
            double b = f(256), c = f(260), d = f(264);
            var a2 = 1.0 - (b * b + c * c + d * d);
            var a = a2 > 0 ? Math.Sqrt(a2) : 0;
            if (a2 < -1e-4 || !double.IsFinite(b + c + d))
            {
                throw Bad("the qform quaternion is not a rotation (b² + c² + d² > 1)");
            }

            var qfac = f(76) < 0 ? -1.0 : 1.0;
            double[] r =
            [
                a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c),
                2 * (b * c + a * d), a * a + c * c - b * b - d * d, 2 * (c * d - a * b),
                2 * (b * d - a * c), 2 * (c * d + a * b), a * a + d * d - c * c - b * b,
            ];
            double ox = f(268) * units, oy = f(272) * units, oz = f(276) * units;
            return ([r[0] * dx, r[1] * dy, r[2] * dz * qfac, ox, r[3] * dx, r[4] * dy, r[5] * dz * qfac, oy, r[6] * dx, r[7] * dy, r[8] * dz * qfac, oz], "qform");
        }

        return ([dx, 0, 0, 0, 0, dy, 0, 0, 0, 0, dz, 0], "voxel");
    }

    private static double Det(double[] m) =>
        m[0] * (m[5] * m[10] - m[6] * m[9]) - m[1] * (m[4] * m[10] - m[6] * m[8]) + m[2] * (m[4] * m[9] - m[5] * m[8]);

    private static bool IsSpacing(double v) => PhysicalSpacing.IsValid(v);

    private static BoundedStream Gunzip(ReadOnlyMemory<byte> upload, long maxVoxelBytes)
    {
        var gzip = new GZipStream(Over(upload), CompressionMode.Decompress);
        return new BoundedStream(gzip, maxVoxelBytes > long.MaxValue / 2 ? long.MaxValue : maxVoxelBytes + (1 << 20) + HeaderSize);
    }

    /// <summary>The upload as a stream over the caller's array (a 50 MB scan is not copied).</summary>
    private static MemoryStream Over(ReadOnlyMemory<byte> bytes) =>
        System.Runtime.InteropServices.MemoryMarshal.TryGetArray(bytes, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(bytes.ToArray(), writable: false);

    private static int ReadFully(Stream stream, Span<byte> buffer)
    {
        var total = 0;
        try
        {
            while (total < buffer.Length)
            {
                var n = stream.Read(buffer[total..]);
                if (n == 0)
                {
                    break;
                }

                total += n;
            }
        }
        catch (InvalidDataException e)
        {
            throw Bad($"the gzip stream is corrupt ({e.Message})");
        }

        return total;
    }

    private static long Skip(Stream stream, long count)
    {
        var buffer = new byte[4096];
        long skipped = 0;
        while (skipped < count)
        {
            var n = ReadFully(stream, buffer.AsSpan(0, (int)Math.Min(buffer.Length, count - skipped)));
            if (n == 0)
            {
                break;
            }

            skipped += n;
        }

        return skipped;
    }

    private static byte[] ToLittleEndian(byte[] big)
    {
        // Only the fields we write back or keep: the numeric ones are rewritten little-endian.
        var h = (byte[])big.Clone();
        void Swap(int at, int size) => Array.Reverse(h, at, size);
        Swap(0, 4);
        for (var at = 40; at < 56; at += 2)
        {
            Swap(at, 2); // dim[8]
        }

        Swap(68, 2);
        Swap(70, 2);
        Swap(72, 2);
        Swap(74, 2);
        for (var at = 76; at < 132; at += 4)
        {
            Swap(at, 4); // pixdim[8], vox_offset, scl_*, slice_end.., cal_max, cal_min
        }

        Swap(252, 2);
        Swap(254, 2);
        for (var at = 256; at < 328; at += 4)
        {
            Swap(at, 4); // quatern_*, qoffset_*, srow_*
        }

        return h;
    }

    private static string DataTypeName(int code) => code switch
    {
        1 => "binary",
        8 => "int32",
        64 => "float64",
        128 => "rgb24",
        256 => "int8",
        512 => "uint16",
        768 => "uint32",
        _ => "unknown",
    };

    private static InvalidInputException Bad(string reason) => new($"bad NIfTI volume: {reason}");

    /// <summary>Stops a decompression at a limit (a gzip bomb is refused, not inflated).</summary>
    private sealed class BoundedStream(Stream inner, long limit) : Stream
    {
        private long _read;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => _read; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var n = inner.Read(buffer);
            _read += n;
            if (_read > limit)
            {
                throw new VolumeTooLargeException($"the gzipped volume inflates past the limit of {limit} bytes");
            }

            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
