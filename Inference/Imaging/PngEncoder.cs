using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace Actors.Inference.Imaging;

/// <summary>Writes grey or RGB PNGs at 8 or 16 bits (no filtering; zlib does the work).</summary>
public static class PngEncoder
{
    /// <summary>8-bit samples, interleaved per pixel, row-major.</summary>
    public static byte[] Encode(int width, int height, int channels, ReadOnlySpan<byte> samples)
    {
        Check(width, height, channels, samples.Length, width * height * channels);
        var rowBytes = width * channels;
        var raw = new byte[height * (rowBytes + 1)];
        for (var y = 0; y < height; y++)
        {
            samples.Slice(y * rowBytes, rowBytes).CopyTo(raw.AsSpan(y * (rowBytes + 1) + 1));
        }

        return Write(width, height, channels, 8, raw);
    }

    /// <summary>16-bit samples, interleaved per pixel, row-major.</summary>
    public static byte[] Encode16(int width, int height, int channels, ReadOnlySpan<ushort> samples16)
    {
        Check(width, height, channels, samples16.Length, width * height * channels);
        var rowBytes = width * channels * 2;
        var raw = new byte[height * (rowBytes + 1)];
        for (var y = 0; y < height; y++)
        {
            var row = raw.AsSpan(y * (rowBytes + 1) + 1);
            for (var i = 0; i < width * channels; i++)
            {
                BinaryPrimitives.WriteUInt16BigEndian(row[(2 * i)..], samples16[y * width * channels + i]);
            }
        }

        return Write(width, height, channels, 16, raw);
    }

    private static void Check(int width, int height, int channels, int have, int need)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        if (channels is not (1 or 3))
        {
            throw new ArgumentOutOfRangeException(nameof(channels), "PNGs are written grey (1) or RGB (3)");
        }

        if (have != need)
        {
            throw new ArgumentException($"{have} samples given for {width}x{height}x{channels}");
        }
    }

    private static byte[] Write(int width, int height, int channels, byte bitDepth, byte[] raw)
    {
        using var output = new MemoryStream();
        output.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = bitDepth;
        ihdr[9] = (byte)(channels == 1 ? 0 : 2);
        WriteChunk(output, "IHDR", ihdr);
        using (var compressed = new MemoryStream())
        {
            using (var z = new ZLibStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
            {
                z.Write(raw);
            }

            WriteChunk(output, "IDAT", compressed.ToArray());
        }

        WriteChunk(output, "IEND", []);
        return output.ToArray();
    }

    private static void WriteChunk(Stream output, string type, ReadOnlySpan<byte> body)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, body.Length);
        output.Write(word);
        var typeBytes = Encoding.ASCII.GetBytes(type);
        output.Write(typeBytes);
        output.Write(body);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32.Compute(typeBytes, body));
        output.Write(word);
    }
}
