using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Actors.Inference.Errors;
using Actors.Inference.Imaging;
using FsCheck;
using FsCheck.Fluent;

namespace Actors.Inference.Tests.Imaging;

public sealed class PngCodecTests
{
    [Fact]
    public void EightBitGreyAndRgbRoundTrip()
    {
        var grey = Enumerable.Range(0, 7 * 5).Select(i => (byte)(i * 7)).ToArray();
        var g = PngDecoder.Decode(PngEncoder.Encode(7, 5, 1, grey), 1000);
        Assert.Equal((7, 5, 1, 8), (g.Width, g.Height, g.Channels, g.BitDepth));
        Assert.Equal(grey, g.Pixels.Select(v => (byte)Math.Round(v * 255)));

        var rgb = Enumerable.Range(0, 3 * 4 * 3).Select(i => (byte)(255 - i)).ToArray();
        var c = PngDecoder.Decode(PngEncoder.Encode(3, 4, 3, rgb), 1000);
        Assert.Equal(3, c.Channels);
        // Planar out: channel 1 of pixel (x=2, y=1) is interleaved sample (1*3+2)*3+1.
        Assert.Equal(rgb[(1 * 3 + 2) * 3 + 1] / 255f, c.Pixels[12 + 1 * 3 + 2], 6);
    }

    [Fact]
    public void SixteenBitSamplesKeepTheirPrecision()
    {
        ushort[] samples = [0, 1, 257, 40000, 65535, 12345];
        var image = PngDecoder.Decode(PngEncoder.Encode16(3, 2, 1, samples), 100);
        Assert.Equal(16, image.BitDepth);
        Assert.Equal(samples, image.Pixels.Select(v => (ushort)Math.Round(v * 65535)));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void EveryRowFilterIsUndone(byte filter)
    {
        const int w = 9, h = 6;
        var rgba = Enumerable.Range(0, w * h * 4).Select(i => (byte)(i * 31 % 251)).ToArray();
        var png = FilteredPng(w, h, rgba, filter);

        var image = PngDecoder.Decode(png, 1000);

        Assert.Equal(3, image.Channels); // alpha dropped
        for (var y = 0; y < h; y++)
        {
            for (var x = 0; x < w; x++)
            {
                for (var ch = 0; ch < 3; ch++)
                {
                    Assert.Equal(rgba[(y * w + x) * 4 + ch], (byte)Math.Round(image.Pixels[ch * w * h + y * w + x] * 255));
                }
            }
        }
    }

    [Fact]
    public void PaletteInterlacedAndLowBitDepthImagesAreRefusedByName()
    {
        Assert.Contains("palette", Refusal(Header(colorType: 3, bitDepth: 8)), StringComparison.Ordinal);
        Assert.Contains("interlaced", Refusal(Header(colorType: 0, bitDepth: 8, interlace: 1)), StringComparison.Ordinal);
        Assert.Contains("4-bit", Refusal(Header(colorType: 0, bitDepth: 4)), StringComparison.Ordinal);
    }

    [Fact]
    public void RandomCorruptionNeverEscapesAsAnythingButATypedError()
    {
        var good = PngEncoder.Encode(16, 16, 1, Enumerable.Range(0, 256).Select(i => (byte)i).ToArray());
        Prop.ForAll(Gen.Choose(0, good.Length - 1).ToArbitrary(), Gen.Choose(1, 255).ToArbitrary(), (at, flip) =>
        {
            var bad = (byte[])good.Clone();
            bad[at] ^= (byte)flip;
            try
            {
                PngDecoder.Decode(bad, 10_000);
                return true; // a flip in ancillary bytes can leave a valid image
            }
            catch (InferenceException)
            {
                return true;
            }
        }).QuickCheckThrowOnFailure();
    }

    private static string Refusal(byte[] png) => Assert.Throws<ImageFormatException>(() => PngDecoder.Decode(png, 1000)).Message;

    private static byte[] Header(byte colorType, byte bitDepth, byte interlace = 0)
    {
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, 4);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), 4);
        ihdr[8] = bitDepth;
        ihdr[9] = colorType;
        ihdr[12] = interlace;
        return Assemble(("IHDR", ihdr), ("IDAT", Deflate(new byte[4 * 9])), ("IEND", []));
    }

    /// <summary>An RGBA PNG whose every row uses <paramref name="filter"/> (the encoder under
    /// test writes filter 0 only, so other tools' filters are built here).</summary>
    private static byte[] FilteredPng(int w, int h, byte[] rgba, byte filter)
    {
        const int bpp = 4;
        var stride = w * bpp;
        var raw = new byte[h * (stride + 1)];
        for (var y = 0; y < h; y++)
        {
            raw[y * (stride + 1)] = filter;
            for (var i = 0; i < stride; i++)
            {
                int x = rgba[y * stride + i];
                int a = i >= bpp ? rgba[y * stride + i - bpp] : 0;
                int b = y > 0 ? rgba[(y - 1) * stride + i] : 0;
                int c = i >= bpp && y > 0 ? rgba[(y - 1) * stride + i - bpp] : 0;
                int predictor = filter switch
                {
                    1 => a,
                    2 => b,
                    3 => (a + b) >> 1,
                    _ => Paeth(a, b, c),
                };
                raw[y * (stride + 1) + 1 + i] = (byte)(x - predictor);
            }
        }

        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, w);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), h);
        ihdr[8] = 8;
        ihdr[9] = 6;
        return Assemble(("IHDR", ihdr), ("IDAT", Deflate(raw)), ("IEND", []));
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    private static byte[] Deflate(byte[] raw)
    {
        using var output = new MemoryStream();
        using (var z = new ZLibStream(output, CompressionLevel.Optimal, leaveOpen: true))
        {
            z.Write(raw);
        }

        return output.ToArray();
    }

    private static byte[] Assemble(params (string Type, byte[] Body)[] chunks)
    {
        using var output = new MemoryStream();
        output.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        foreach (var (type, body) in chunks)
        {
            var word = new byte[4];
            BinaryPrimitives.WriteInt32BigEndian(word, body.Length);
            output.Write(word);
            var typeAndBody = Encoding.ASCII.GetBytes(type).Concat(body).ToArray();
            output.Write(typeAndBody);
            BinaryPrimitives.WriteUInt32BigEndian(word, ReferenceCrc32.Compute(typeAndBody));
            output.Write(word);
        }

        return output.ToArray();
    }
}
