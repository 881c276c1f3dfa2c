using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Actors.Inference.Errors;
using Actors.Inference.Imaging;
using FsCheck;
using FsCheck.Fluent;

namespace Actors.Inference.Tests.Imaging;

public sealed class ImageCodecTests
{
    [Fact]
    public void EightBitGreyAndRgbRoundTrip()
    {
        var grey = Enumerable.Range(0, 7 * 5).Select(i => (byte)(i * 7)).ToArray();
        var g = ImageCodec.Decode(ImageCodec.EncodePng(7, 5, 1, grey), 1000);
        Assert.Equal((7, 5, 1, 8), (g.Width, g.Height, g.Channels, g.BitDepth));
        Assert.Equal(grey, g.Pixels.Select(v => (byte)Math.Round(v * 255)));

        var rgb = Enumerable.Range(0, 3 * 4 * 3).Select(i => (byte)(255 - i)).ToArray();
        var c = ImageCodec.Decode(ImageCodec.EncodePng(3, 4, 3, rgb), 1000);
        Assert.Equal(3, c.Channels);
        // Planar out: channel 1 of pixel (x=2, y=1) is interleaved sample (1*3+2)*3+1.
        Assert.Equal(rgb[(1 * 3 + 2) * 3 + 1] / 255f, c.Pixels[12 + 1 * 3 + 2], 6);
    }

    [Fact]
    public void SixteenBitSamplesKeepTheirPrecision()
    {
        ushort[] samples = [0, 1, 257, 40000, 65535, 12345];
        var image = ImageCodec.Decode(ImageCodec.EncodePng16(3, 2, 1, samples), 100);
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

        var image = ImageCodec.Decode(png, 1000);

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

    /// <summary>An X-ray arrives as PNG, JPEG (radiology exports, phone photos), BMP, TIFF or WebP:
    /// each decodes to the same grey picture (JPEG within its loss), one channel for grey formats.</summary>
    [Theory]
    [InlineData("png", 0.0)]
    [InlineData("jpeg", 0.03)]
    [InlineData("bmp", 0.0)]
    [InlineData("tiff", 0.0)]
    [InlineData("webp", 0.0)]
    public void EveryAcceptedFormatDecodesTheSamePicture(string format, double tolerance)
    {
        const int w = 32, h = 24;
        var grey = Enumerable.Range(0, w * h).Select(i => (byte)((i % w * 8) + (i / w))).ToArray();
        using var image = SixLabors.ImageSharp.Image.LoadPixelData<SixLabors.ImageSharp.PixelFormats.L8>(grey, w, h);
        using var file = new MemoryStream();
        SixLabors.ImageSharp.Formats.IImageEncoder encoder = format switch
        {
            "png" => new SixLabors.ImageSharp.Formats.Png.PngEncoder(),
            "jpeg" => new SixLabors.ImageSharp.Formats.Jpeg.JpegEncoder { Quality = 95, ColorType = SixLabors.ImageSharp.Formats.Jpeg.JpegColorType.Luminance },
            "bmp" => new SixLabors.ImageSharp.Formats.Bmp.BmpEncoder(),
            "tiff" => new SixLabors.ImageSharp.Formats.Tiff.TiffEncoder(),
            _ => new SixLabors.ImageSharp.Formats.Webp.WebpEncoder { FileFormat = SixLabors.ImageSharp.Formats.Webp.WebpFileFormatType.Lossless },
        };
        image.Save(file, encoder);

        var decoded = ImageCodec.Decode(file.ToArray(), 10_000);

        Assert.Equal((w, h), (decoded.Width, decoded.Height));
        var first = decoded.FirstChannel().Pixels;
        var worst = first.Select((v, i) => Math.Abs(v - (grey[i] / 255.0))).Max();
        Assert.True(worst <= tolerance + 1e-6, $"{format}: worst pixel off by {worst:0.0000}");
        if (format is "png" or "jpeg")
        {
            Assert.Equal(1, decoded.Channels);
        }
    }

    [Fact]
    public void AGifIsRefusedAsAFormatWeDoNotRead()
    {
        using var image = new SixLabors.ImageSharp.Image<SixLabors.ImageSharp.PixelFormats.L8>(4, 4);
        using var file = new MemoryStream();
        image.Save(file, new SixLabors.ImageSharp.Formats.Gif.GifEncoder());
        Assert.Contains("not an image this service reads", Refusal(file.ToArray()), StringComparison.Ordinal);
    }

    [Fact]
    public void APaletteOrInterlacedPngDecodesAndOneWithNoPixelDataIsRefused()
    {
        var rgb = Enumerable.Range(0, 8 * 8 * 3).Select(i => (byte)(i * 5)).ToArray();
        using var image = SixLabors.ImageSharp.Image.LoadPixelData<SixLabors.ImageSharp.PixelFormats.Rgb24>(rgb, 8, 8);
        foreach (var encoder in new[]
        {
            new SixLabors.ImageSharp.Formats.Png.PngEncoder { ColorType = SixLabors.ImageSharp.Formats.Png.PngColorType.Palette },
            new SixLabors.ImageSharp.Formats.Png.PngEncoder { InterlaceMethod = SixLabors.ImageSharp.Formats.Png.PngInterlaceMode.Adam7 },
        })
        {
            using var file = new MemoryStream();
            image.Save(file, encoder);
            Assert.Equal((8, 8), (ImageCodec.Decode(file.ToArray(), 100).Width, ImageCodec.Decode(file.ToArray(), 100).Height));
        }

        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, 4);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), 4);
        ihdr[8] = 8;
        Assert.Contains("corrupt", Refusal(Assemble(("IHDR", ihdr), ("IEND", []))), StringComparison.Ordinal); // no IDAT
    }

    [Fact]
    public void RandomCorruptionNeverEscapesAsAnythingButATypedError()
    {
        var good = ImageCodec.EncodePng(16, 16, 1, Enumerable.Range(0, 256).Select(i => (byte)i).ToArray());
        Prop.ForAll(Gen.Choose(0, good.Length - 1).ToArbitrary(), Gen.Choose(1, 255).ToArbitrary(), (at, flip) =>
        {
            var bad = (byte[])good.Clone();
            bad[at] ^= (byte)flip;
            try
            {
                ImageCodec.Decode(bad, 10_000);
                return true; // a flip in ancillary bytes can leave a valid image
            }
            catch (InferenceException)
            {
                return true;
            }
        }).QuickCheckThrowOnFailure();
    }

    private static string Refusal(byte[] png) => Assert.Throws<ImageFormatException>(() => ImageCodec.Decode(png, 1000)).Message;

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
