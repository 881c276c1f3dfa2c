using System.Runtime.InteropServices;
using Actors.Inference.Errors;
using Actors.Inference.Imaging;
using Actors.Inference.Models;
using Actors.Inference.Tensors;

namespace Actors.Inference.Pipelines;

/// <summary>Turns an upload into the model's first input ([1, C, H, W] float32): an image (PNG,
/// JPEG, BMP, TIFF, WebP) is decoded, checked for channels, resized and normalised; raw float32
/// is checked for shape and used as it is.</summary>
public static class ImageInput
{
    public const string Png = "image/png";
    public const string RawFloat32 = "application/octet-stream";

    /// <summary>The input tensor, and the upload's own size when it was an image.</summary>
    public static (Tensor Tensor, (int Width, int Height)? Source) ToTensor(InferenceRequest request, ModelManifest manifest, long maxPixels)
    {
        var p = manifest.Preprocess;
        var contentType = (request.ContentType ?? "").Split(';')[0].Trim().ToLowerInvariant();
        if (request.Input.IsEmpty)
        {
            throw new InvalidInputException($"model '{manifest.Name}' needs an input image; none was sent");
        }

        if (contentType == RawFloat32)
        {
            return (FromRaw(request, manifest), null);
        }

        if (!ImageCodec.Accepts(contentType))
        {
            throw new ImageFormatException($"unsupported content type '{request.ContentType}': send {string.Join(", ", ImageCodec.ContentTypes)}, or {RawFloat32} with a shape");
        }

        var (image, sourceWidth, sourceHeight) = ImageCodec.DecodeResized(request.Input.Span, maxPixels, p.Width, p.Height);
        if (image.Channels != p.Channels)
        {
            if (p.Channels == 1 && image.IsGrayAsRgb())
            {
                image = image.FirstChannel();
            }
            else
            {
                throw new InvalidInputException(
                    $"model '{manifest.Name}' takes {Describe(p.Channels)} images; this one is {Describe(image.Channels)}");
            }
        }

        var data = image.Pixels; // made for this call: normalised in place
        var plane = p.Width * p.Height;
        for (var c = 0; c < p.Channels; c++)
        {
            var mean = p.Mean.Count == 1 ? p.Mean[0] : p.Mean[c];
            var std = p.Std.Count == 1 ? p.Std[0] : p.Std[c];
            var span = data.AsSpan(c * plane, plane);
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = (span[i] - mean) / std;
            }
        }

        return (Tensor.FromFloat32(data, 1, p.Channels, p.Height, p.Width), (sourceWidth, sourceHeight));
    }

    private static Tensor FromRaw(InferenceRequest request, ModelManifest manifest)
    {
        var p = manifest.Preprocess;
        long[] expected = [1, p.Channels, p.Height, p.Width];
        if (request.Shape is null || request.Shape.Count == 0)
        {
            throw new InvalidInputException($"raw float32 input needs a shape, e.g. {p.Channels},{p.Height},{p.Width}");
        }

        var shape = request.Shape.Count == 3 ? [1, .. request.Shape] : request.Shape.ToArray();
        if (!shape.SequenceEqual(expected))
        {
            throw new InvalidInputException(
                $"model '{manifest.Name}' takes shape {Tensor.FormatShape(expected[1..])}; got {Tensor.FormatShape(request.Shape)}");
        }

        var count = Tensor.ElementCountOf(expected);
        if (request.Input.Length != count * sizeof(float))
        {
            throw new InvalidInputException(
                $"raw float32 input of shape {Tensor.FormatShape(expected[1..])} is {count * sizeof(float)} bytes; got {request.Input.Length}" +
                (request.Input.Length == count * sizeof(long) ? " (int64 data? send float32)" : ""));
        }

        var values = MemoryMarshal.Cast<byte, float>(request.Input.Span).ToArray();
        if (values.Any(v => !float.IsFinite(v)))
        {
            throw new InvalidInputException("raw float32 input contains NaN or infinity");
        }

        return Tensor.FromFloat32(values, expected);
    }

    private static string Describe(int channels) => channels switch
    {
        1 => "1-channel (greyscale)",
        3 => "3-channel (RGB)",
        _ => $"{channels}-channel",
    };
}
