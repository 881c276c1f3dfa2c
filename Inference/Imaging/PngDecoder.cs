using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Actors.Inference.Errors;

namespace Actors.Inference.Imaging;

/// <summary>Decodes non-interlaced PNGs: grey, grey+alpha, RGB, RGBA at 8 or 16 bits. Every
/// chunk's CRC is checked, and the size limit is enforced from the header before any pixel
/// memory is allocated.</summary>
public static class PngDecoder
{
    private static readonly byte[] Signature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    public static bool LooksLikePng(ReadOnlySpan<byte> data) => data.Length >= 8 && data[..8].SequenceEqual(Signature);

    public static DecodedImage Decode(ReadOnlySpan<byte> data, long maxPixels)
    {
        if (!LooksLikePng(data))
        {
            throw new ImageFormatException("not a PNG file (bad signature)");
        }

        var header = default(Header);
        var haveHeader = false;
        var idat = new MemoryStream();
        var pos = 8;
        var ended = false;
        while (!ended)
        {
            if (pos + 12 > data.Length)
            {
                throw new ImageFormatException("corrupt PNG: truncated (no IEND chunk)");
            }

            var length = BinaryPrimitives.ReadUInt32BigEndian(data[pos..]);
            if (length > int.MaxValue || pos + 12 + (long)length > data.Length)
            {
                throw new ImageFormatException("corrupt PNG: a chunk runs past the end of the file");
            }

            var type = data.Slice(pos + 4, 4);
            var body = data.Slice(pos + 8, (int)length);
            var crc = BinaryPrimitives.ReadUInt32BigEndian(data[(pos + 8 + (int)length)..]);
            var name = Encoding.ASCII.GetString(type);
            if (Crc32.Compute(type, body) != crc)
            {
                throw new ImageFormatException($"corrupt PNG: CRC mismatch in chunk {name}");
            }

            switch (name)
            {
                case "IHDR":
                    header = ReadHeader(body, maxPixels);
                    haveHeader = true;
                    break;
                case "IDAT":
                    if (!haveHeader)
                    {
                        throw new ImageFormatException("corrupt PNG: IDAT before IHDR");
                    }

                    idat.Write(body);
                    break;
                case "IEND":
                    ended = true;
                    break;
                default:
                    if ((type[0] & 0x20) == 0 && name != "PLTE")
                    {
                        throw new ImageFormatException($"unsupported PNG: unknown critical chunk {name}");
                    }

                    break;
            }

            pos += 12 + (int)length;
        }

        if (!haveHeader)
        {
            throw new ImageFormatException("corrupt PNG: no IHDR chunk");
        }

        return Unpack(header, Inflate(header, idat));
    }

    private static Header ReadHeader(ReadOnlySpan<byte> body, long maxPixels)
    {
        if (body.Length != 13)
        {
            throw new ImageFormatException("corrupt PNG: IHDR has the wrong length");
        }

        var h = new Header(
            BinaryPrimitives.ReadInt32BigEndian(body),
            BinaryPrimitives.ReadInt32BigEndian(body[4..]),
            body[8],
            body[9]);
        if (h.Width <= 0 || h.Height <= 0)
        {
            throw new ImageFormatException($"corrupt PNG: size {h.Width}x{h.Height}");
        }

        if ((long)h.Width * h.Height > maxPixels)
        {
            throw new ImageTooLargeException(
                $"image is {h.Width}x{h.Height} = {(long)h.Width * h.Height} pixels; the limit is {maxPixels}");
        }

        if (body[10] != 0 || body[11] != 0)
        {
            throw new ImageFormatException("corrupt PNG: unknown compression or filter method");
        }

        if (body[12] != 0)
        {
            throw new ImageFormatException("unsupported PNG: interlaced (Adam7); save it without interlacing");
        }

        if (h.ColorType == 3)
        {
            throw new ImageFormatException("unsupported PNG: palette images; save as greyscale or RGB");
        }

        if (h.ColorType is not (0 or 2 or 4 or 6))
        {
            throw new ImageFormatException($"corrupt PNG: colour type {h.ColorType}");
        }

        if (h.BitDepth is not (8 or 16))
        {
            throw new ImageFormatException($"unsupported PNG: {h.BitDepth}-bit samples; use 8 or 16 bits");
        }

        return h;
    }

    private static byte[] Inflate(Header h, MemoryStream idat)
    {
        var expected = checked((long)h.Height * (1 + h.RowBytes));
        var raw = new byte[expected];
        idat.Position = 0;
        try
        {
            using var z = new ZLibStream(idat, CompressionMode.Decompress);
            var read = 0;
            while (read < raw.Length)
            {
                var n = z.Read(raw, read, raw.Length - read);
                if (n == 0)
                {
                    throw new ImageFormatException($"corrupt PNG: image data ends after {read} of {expected} bytes");
                }

                read += n;
            }
        }
        catch (InvalidDataException e)
        {
            throw new ImageFormatException("corrupt PNG: image data is not valid zlib", e);
        }

        return raw;
    }

    private static DecodedImage Unpack(Header h, byte[] raw)
    {
        var rowBytes = h.RowBytes;
        var bpp = h.BytesPerPixel;
        var prev = new byte[rowBytes];
        var row = new byte[rowBytes];
        var channels = h.ColorType is 0 or 4 ? 1 : 3;
        var plane = h.Width * h.Height;
        var pixels = new float[(long)channels * plane];
        var max = h.BitDepth == 16 ? 65535f : 255f;
        for (var y = 0; y < h.Height; y++)
        {
            var start = y * (rowBytes + 1);
            var filter = raw[start];
            Array.Copy(raw, start + 1, row, 0, rowBytes);
            Unfilter(filter, row, prev, bpp);
            for (var x = 0; x < h.Width; x++)
            {
                for (var c = 0; c < channels; c++)
                {
                    var at = x * bpp + c * (h.BitDepth / 8);
                    var v = h.BitDepth == 16 ? (row[at] << 8) | row[at + 1] : row[at];
                    pixels[c * plane + y * h.Width + x] = v / max;
                }
            }

            (prev, row) = (row, prev);
        }

        return new DecodedImage(h.Width, h.Height, channels, h.BitDepth, pixels);
    }

    private static void Unfilter(byte filter, byte[] row, byte[] prev, int bpp)
    {
        switch (filter)
        {
            case 0:
                return;
            case 1:
                for (var i = bpp; i < row.Length; i++)
                {
                    row[i] += row[i - bpp];
                }

                return;
            case 2:
                for (var i = 0; i < row.Length; i++)
                {
                    row[i] += prev[i];
                }

                return;
            case 3:
                for (var i = 0; i < row.Length; i++)
                {
                    var left = i >= bpp ? row[i - bpp] : 0;
                    row[i] += (byte)((left + prev[i]) >> 1);
                }

                return;
            case 4:
                for (var i = 0; i < row.Length; i++)
                {
                    int a = i >= bpp ? row[i - bpp] : 0, b = prev[i], c = i >= bpp ? prev[i - bpp] : 0;
                    int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
                    row[i] += (byte)(pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
                }

                return;
            default:
                throw new ImageFormatException($"corrupt PNG: unknown row filter {filter}");
        }
    }

    private readonly record struct Header(int Width, int Height, byte BitDepth, byte ColorType)
    {
        public int SamplesPerPixel => ColorType switch { 0 => 1, 2 => 3, 4 => 2, _ => 4 };

        public int BytesPerPixel => SamplesPerPixel * BitDepth / 8;

        public int RowBytes => checked(Width * BytesPerPixel);
    }
}
