using Actors.Inference.Errors;
using ImageFormatException = Actors.Inference.Errors.ImageFormatException;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Bmp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Tiff;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Actors.Inference.Imaging;

/// <summary>Images in and out through ImageSharp: PNG (grey, RGB, alpha; 8 or 16 bits), JPEG,
/// BMP, TIFF and WebP uploads decode to planar floats in [0, 1] (alpha dropped); outputs are PNG.
/// The size limit is checked from the header before any pixel memory is allocated, so a
/// decompression bomb is refused without being decoded.</summary>
public static class ImageCodec
{
    /// <summary>The upload types a model's image input accepts.</summary>
    public static readonly IReadOnlyList<string> ContentTypes = ["image/png", "image/jpeg", "image/bmp", "image/tiff", "image/webp"];

    private static readonly Configuration Formats = new(
        new PngConfigurationModule(), new JpegConfigurationModule(), new BmpConfigurationModule(), new TiffConfigurationModule(), new WebpConfigurationModule());


    public static bool Accepts(string? contentType) => contentType is not null && ContentTypes.Contains(contentType);

    /// <summary>Decodes an image (grey ones to one channel, others to three).</summary>
    public static DecodedImage Decode(ReadOnlySpan<byte> data, long maxPixels) => Load(data, maxPixels, null).Image;

    /// <summary>Decodes an image and resizes it (bilinear, ImageSharp's triangle resampler) to
    /// <paramref name="width"/>×<paramref name="height"/> before it becomes floats, so a large
    /// upload is never held as floats at full size; also gives the upload's own size.</summary>
    public static (DecodedImage Image, int SourceWidth, int SourceHeight) DecodeResized(ReadOnlySpan<byte> data, long maxPixels, int width, int height) =>
        Load(data, maxPixels, new Size(width, height));

    private static (DecodedImage Image, int SourceWidth, int SourceHeight) Load(ReadOnlySpan<byte> data, long maxPixels, Size? resizeTo)
    {
        var bytes = data.ToArray();
        var (info, format) = Identify(bytes);
        var pixels = (long)info.Width * info.Height;
        if (info.Width <= 0 || info.Height <= 0)
        {
            throw new ImageFormatException($"corrupt {format.Name}: size {info.Width}x{info.Height}");
        }

        if (pixels > maxPixels)
        {
            throw new ImageTooLargeException($"image is {info.Width}x{info.Height} = {pixels} pixels; the limit is {maxPixels}");
        }

        var grey = IsGrey(info, format);
        var bitDepth = format == PngFormat.Instance && info.Metadata.GetPngMetadata().BitDepth == PngBitDepth.Bit16 ? 16 : 8;
        try
        {
            // Decoded straight into 16 bits per channel (exact for 8- and 16-bit sources): a grey
            // X-ray costs two bytes per pixel here, not eight.
            if (grey)
            {
                using var image = Image.Load<L16>(Formats, bytes);
                Fit(image, resizeTo);
                return (PlanarGrey(image, bitDepth), info.Width, info.Height);
            }
            else
            {
                using var image = Image.Load<Rgb48>(Formats, bytes);
                Fit(image, resizeTo);
                return (PlanarRgb(image, bitDepth), info.Width, info.Height);
            }
        }
        catch (Exception e) when (e is not (InferenceException or OutOfMemoryException))
        {
            // Hostile bytes: whatever the decoder throws on them is a bad upload, not a server error.
            throw new ImageFormatException($"corrupt {format.Name}: {e.Message}", e);
        }
    }

    private static void Fit(Image image, Size? size)
    {
        if (size is { } target && (image.Width != target.Width || image.Height != target.Height))
        {
            image.Mutate(x => x.Resize(new ResizeOptions { Size = target, Mode = ResizeMode.Stretch, Sampler = KnownResamplers.Triangle }));
        }
    }

    /// <summary>An 8-bit PNG of <paramref name="channels"/> (1 grey, 3 RGB) interleaved samples.</summary>
    public static byte[] EncodePng(int width, int height, int channels, ReadOnlySpan<byte> samples)
    {
        Check(width, height, channels, samples.Length);
        using var output = new MemoryStream();
        if (channels == 1)
        {
            using var image = Image.LoadPixelData<L8>(Formats, samples, width, height);
            image.Save(output, Encoder(PngBitDepth.Bit8, PngColorType.Grayscale));
        }
        else
        {
            using var image = Image.LoadPixelData<Rgb24>(Formats, samples, width, height);
            image.Save(output, Encoder(PngBitDepth.Bit8, PngColorType.Rgb));
        }

        return output.ToArray();
    }

    /// <summary>A 16-bit PNG of <paramref name="channels"/> (1 grey, 3 RGB) interleaved samples.</summary>
    public static byte[] EncodePng16(int width, int height, int channels, ReadOnlySpan<ushort> samples)
    {
        Check(width, height, channels, samples.Length);
        using var output = new MemoryStream();
        if (channels == 1)
        {
            using var image = Image.LoadPixelData<L16>(Formats, System.Runtime.InteropServices.MemoryMarshal.Cast<ushort, L16>(samples), width, height);
            image.Save(output, Encoder(PngBitDepth.Bit16, PngColorType.Grayscale));
        }
        else
        {
            var rgb = new Rgb48[width * height];
            for (var i = 0; i < rgb.Length; i++)
            {
                rgb[i] = new Rgb48(samples[3 * i], samples[(3 * i) + 1], samples[(3 * i) + 2]);
            }

            using var image = Image.LoadPixelData<Rgb48>(Formats, rgb, width, height);
            image.Save(output, Encoder(PngBitDepth.Bit16, PngColorType.Rgb));
        }

        return output.ToArray();
    }

    private static (IImageInfo Info, IImageFormat Format) Identify(byte[] bytes)
    {
        try
        {
            return Image.Identify(Formats, bytes, out var format) is { } info && format is not null
                ? (info, format)
                : throw new ImageFormatException("not an image this service reads: send PNG, JPEG, BMP, TIFF or WebP");
        }
        catch (Exception e) when (e is not (InferenceException or OutOfMemoryException))
        {
            throw new ImageFormatException($"corrupt or unsupported image: {e.Message}", e);
        }
    }

    /// <summary>Grey images (PNG grey, JPEG luminance) come out with one channel, others with three.</summary>
    private static bool IsGrey(IImageInfo info, IImageFormat format) =>
        (format == PngFormat.Instance && info.Metadata.GetPngMetadata().ColorType is PngColorType.Grayscale or PngColorType.GrayscaleWithAlpha)
        || (format == JpegFormat.Instance && info.Metadata.GetJpegMetadata().ColorType is JpegColorType.Luminance);

    /// <summary>Planar floats in [0, 1]: one plane of H×W.</summary>
    private static DecodedImage PlanarGrey(Image<L16> image, int bitDepth)
    {
        var (w, h) = (image.Width, image.Height);
        var pixels = new float[w * h];
        image.ProcessPixelRows(rows =>
        {
            for (var y = 0; y < h; y++)
            {
                var row = rows.GetRowSpan(y);
                var output = pixels.AsSpan(y * w, w);
                for (var x = 0; x < w; x++)
                {
                    output[x] = row[x].PackedValue / 65535f;
                }
            }
        });
        return new DecodedImage(w, h, 1, bitDepth, pixels);
    }

    /// <summary>Planar floats in [0, 1]: three planes (R, G, B) of H×W; alpha is dropped.</summary>
    private static DecodedImage PlanarRgb(Image<Rgb48> image, int bitDepth)
    {
        var (w, h) = (image.Width, image.Height);
        var plane = w * h;
        var pixels = new float[3 * plane];
        image.ProcessPixelRows(rows =>
        {
            for (var y = 0; y < h; y++)
            {
                var row = rows.GetRowSpan(y);
                for (var x = 0; x < w; x++)
                {
                    var i = (y * w) + x;
                    pixels[i] = row[x].R / 65535f;
                    pixels[plane + i] = row[x].G / 65535f;
                    pixels[(2 * plane) + i] = row[x].B / 65535f;
                }
            }
        });
        return new DecodedImage(w, h, 3, bitDepth, pixels);
    }

    private static PngEncoder Encoder(PngBitDepth depth, PngColorType color) => new() { BitDepth = depth, ColorType = color };

    private static void Check(int width, int height, int channels, int samples)
    {
        if (width <= 0 || height <= 0 || channels is not (1 or 3) || samples != width * height * channels)
        {
            throw new ArgumentException($"{samples} samples do not make a {width}x{height} image of {channels} channel(s)");
        }
    }
}
