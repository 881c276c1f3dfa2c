using Actors.Inference.Errors;
using Actors.Inference.Imaging;

namespace Actors.Inference.Pipelines;

/// <summary>Image → logits → per-pixel argmax → label map PNG + anatomical passport.</summary>
internal static class SegmentationPipeline
{
    public static async Task<InferenceOutput> RunAsync(LoadedModel model, InferenceRequest request, long maxPixels, long maxVoxelBytes, CancellationToken ct)
    {
        if (IsVolume(request))
        {
            return await VolumeSegmentation.RunAsync(model, request, maxVoxelBytes, ct);
        }

        return await RunSliceAsync(model, request, maxPixels, ct);
    }

    /// <summary>A NIfTI volume: sent as application/x-nifti (or application/gzip).</summary>
    public static bool IsVolume(InferenceRequest request) =>
        (request.ContentType ?? "").Split(';')[0].Trim().ToLowerInvariant() is Volumes.Nifti.ContentType or "application/gzip";

    private static async Task<SegmentationOutput> RunSliceAsync(LoadedModel model, InferenceRequest request, long maxPixels, CancellationToken ct)
    {
        CheckSpacing(request);
        var manifest = model.Manifest;
        var (input, source) = ImageInput.ToTensor(request, manifest, maxPixels);
        var outputs = await model.ForwardAsync([input], ct);
        var logits = outputs[0];
        var classes = (int)logits.Shape[1];
        int h = (int)logits.Shape[2], w = (int)logits.Shape[3];
        var labels = Argmax(logits.Floats, classes, h * w);
        logits.Recycle();

        // Report at the input's own resolution so areas use the caller's spacing directly.
        int outW = source?.Width ?? w, outH = source?.Height ?? h;
        if (outW != w || outH != h)
        {
            labels = NearestResize(labels, w, h, outW, outH);
        }

        var passport = Measure(labels, outW, outH, classes, manifest.Labels, manifest.Postprocess.MinPixels, request);
        return new SegmentationOutput
        {
            Model = manifest.Name,
            Version = manifest.Version,
            Device = model.Device,
            Passport = passport,
            Png = ImageCodec.EncodePng(outW, outH, 1, labels),
        };
    }

    internal static byte[] Argmax(float[] logits, int classes, int plane)
    {
        var labels = new byte[plane];
        for (var i = 0; i < plane; i++)
        {
            var best = 0;
            var bestValue = logits[i];
            for (var c = 1; c < classes; c++)
            {
                var v = logits[c * plane + i];
                if (v > bestValue)
                {
                    bestValue = v;
                    best = c;
                }
            }

            labels[i] = (byte)best;
        }

        return labels;
    }

    internal static byte[] NearestResize(byte[] labels, int w, int h, int outW, int outH)
    {
        var result = new byte[outW * outH];
        for (var y = 0; y < outH; y++)
        {
            var sy = Math.Min(h - 1, (int)((y + 0.5) * h / outH));
            for (var x = 0; x < outW; x++)
            {
                var sx = Math.Min(w - 1, (int)((x + 0.5) * w / outW));
                result[y * outW + x] = labels[sy * w + sx];
            }
        }

        return result;
    }

    private static AnatomicalPassport Measure(byte[] labels, int w, int h, int classes, IReadOnlyList<string> names,
        int minPixels, InferenceRequest request)
    {
        var count = new long[classes];
        var sumX = new double[classes];
        var sumY = new double[classes];
        var box = Enumerable.Range(0, classes).Select(_ => new[] { int.MaxValue, int.MaxValue, -1, -1 }).ToArray();
        for (var y = 0; y < h; y++)
        {
            for (var x = 0; x < w; x++)
            {
                var c = labels[y * w + x];
                count[c]++;
                sumX[c] += x;
                sumY[c] += y;
                var b = box[c];
                b[0] = Math.Min(b[0], x);
                b[1] = Math.Min(b[1], y);
                b[2] = Math.Max(b[2], x);
                b[3] = Math.Max(b[3], y);
            }
        }

        var pixelArea = request.SpacingXMm * request.SpacingYMm;
        var structures = new List<StructureMeasure>();
        for (var c = 1; c < classes; c++)
        {
            var present = count[c] >= minPixels;
            var area = count[c] * pixelArea;
            structures.Add(new StructureMeasure
            {
                Label = c < names.Count ? names[c] : $"label{c}",
                Index = c,
                Present = present,
                Pixels = count[c],
                AreaMm2 = Math.Round(area, 3),
                VolumeMl = request.SliceThicknessMm is { } t ? Math.Round(area * t / 1000.0, 4) : null,
                CentroidPx = count[c] > 0 ? [Math.Round(sumX[c] / count[c], 2), Math.Round(sumY[c] / count[c], 2)] : null,
                BoundingBoxPx = count[c] > 0 ? box[c] : null,
            });
        }

        return new AnatomicalPassport
        {
            Width = w,
            Height = h,
            SpacingXMm = request.SpacingXMm,
            SpacingYMm = request.SpacingYMm,
            SliceThicknessMm = request.SliceThicknessMm,
            Structures = structures,
        };
    }

    internal static void CheckSpacing(InferenceRequest r)
    {
        static bool Bad(double v) => !PhysicalSpacing.IsValid(v);
        if (Bad(r.SpacingXMm) || Bad(r.SpacingYMm) || r.SliceThicknessMm is { } t && Bad(t))
        {
            throw new InvalidInputException($"spacing and slice thickness must be millimetres {PhysicalSpacing.Range}");
        }
    }
}
