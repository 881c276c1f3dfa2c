using Actors.Inference.Errors;
using Actors.Inference.Imaging;
using Actors.Inference.Tensors;
using Actors.Inference.Volumes;

namespace Actors.Inference.Pipelines;

/// <summary>A NIfTI volume → every slice (k) windowed to [0, 1], resized to the model's input and
/// run through the dynamic batcher (slices in flight together fill its batches) → per-voxel
/// labels at the volume's own resolution → the label volume and the 3-D passport.</summary>
internal static class VolumeSegmentation
{
    public static async Task<VolumeSegmentationOutput> RunAsync(LoadedModel model, InferenceRequest request, long maxVoxelBytes, CancellationToken ct)
    {
        var volume = Nifti.Read(request.Input, maxVoxelBytes);
        var manifest = model.Manifest;
        var p = manifest.Preprocess;
        if (p.Channels != 1)
        {
            throw new InvalidInputException($"model '{manifest.Name}' takes {p.Channels}-channel images; a volume's slices are greyscale");
        }

        var g = volume.Geometry;
        var plane = g.Nx * g.Ny;
        var labels = new byte[g.Voxels];
        var classes = 0;
        var done = 0;
        var inFlight = Math.Max(1, manifest.Batch.MaxBatchSize * 2);
        await Parallel.ForEachAsync(Enumerable.Range(0, g.Nz), new ParallelOptions { MaxDegreeOfParallelism = inFlight, CancellationToken = ct }, async (k, token) =>
        {
            var input = Slice(volume, k, p.Width, p.Height, p.Mean[0], p.Std[0]);
            var outputs = await model.ForwardAsync([Tensor.FromFloat32(input, 1, 1, p.Height, p.Width)], token);
            var logits = outputs[0];
            var c = (int)logits.Shape[1];
            int h = (int)logits.Shape[2], w = (int)logits.Shape[3];
            var sliceLabels = SegmentationPipeline.Argmax(logits.Floats, c, h * w);
            logits.Recycle();
            if (w != g.Nx || h != g.Ny)
            {
                sliceLabels = SegmentationPipeline.NearestResize(sliceLabels, w, h, g.Nx, g.Ny);
            }

            sliceLabels.CopyTo(labels.AsSpan(k * plane, plane));
            Volatile.Write(ref classes, c);
            request.Progress?.Report((Interlocked.Increment(ref done), g.Nz));
        });

        return new VolumeSegmentationOutput
        {
            Model = manifest.Name,
            Version = manifest.Version,
            Device = model.Device,
            Slices = g.Nz,
            Passport = Measure(volume, labels, classes, manifest.Labels, manifest.Postprocess.MinPixels),
            LabelVolume = Nifti.WriteLabels(volume, labels),
        };
    }

    /// <summary>Slice k windowed to [0, 1], bilinearly resized to width × height, normalised.</summary>
    internal static float[] Slice(NiftiVolume volume, int k, int width, int height, float mean, float std)
    {
        var g = volume.Geometry;
        var (lo, hi) = volume.Window;
        var scale = hi > lo ? 1.0 / (hi - lo) : 0;
        var source = volume.Voxels.AsSpan(k * g.Nx * g.Ny, g.Nx * g.Ny);
        var result = new float[width * height];
        for (var y = 0; y < height; y++)
        {
            var sy = Math.Clamp((y + 0.5) * g.Ny / height - 0.5, 0, g.Ny - 1);
            int y0 = (int)sy, y1 = Math.Min(y0 + 1, g.Ny - 1);
            var fy = sy - y0;
            for (var x = 0; x < width; x++)
            {
                var sx = Math.Clamp((x + 0.5) * g.Nx / width - 0.5, 0, g.Nx - 1);
                int x0 = (int)sx, x1 = Math.Min(x0 + 1, g.Nx - 1);
                var fx = sx - x0;
                var v = (source[y0 * g.Nx + x0] * (1 - fx) + source[y0 * g.Nx + x1] * fx) * (1 - fy)
                    + (source[y1 * g.Nx + x0] * (1 - fx) + source[y1 * g.Nx + x1] * fx) * fy;
                var unit = Math.Clamp((v - lo) * scale, 0, 1);
                result[y * width + x] = (float)((unit - mean) / std);
            }
        }

        return result;
    }

    private static VolumePassport Measure(NiftiVolume volume, byte[] labels, int classes, IReadOnlyList<string> names, int minVoxels)
    {
        var g = volume.Geometry;
        var count = new long[classes];
        var sum = new double[classes, 3];
        var box = new int[classes, 6];
        var slices = new int[classes];
        for (var c = 0; c < classes; c++)
        {
            box[c, 0] = box[c, 1] = box[c, 2] = int.MaxValue;
            box[c, 3] = box[c, 4] = box[c, 5] = -1;
        }

        var onSlice = new bool[classes];
        var i = 0;
        for (var k = 0; k < g.Nz; k++)
        {
            Array.Clear(onSlice);
            for (var j = 0; j < g.Ny; j++)
            {
                for (var x = 0; x < g.Nx; x++, i++)
                {
                    var c = labels[i];
                    if (c == 0 || c >= classes)
                    {
                        continue;
                    }

                    count[c]++;
                    sum[c, 0] += x;
                    sum[c, 1] += j;
                    sum[c, 2] += k;
                    box[c, 0] = Math.Min(box[c, 0], x);
                    box[c, 1] = Math.Min(box[c, 1], j);
                    box[c, 2] = Math.Min(box[c, 2], k);
                    box[c, 3] = Math.Max(box[c, 3], x);
                    box[c, 4] = Math.Max(box[c, 4], j);
                    box[c, 5] = Math.Max(box[c, 5], k);
                    onSlice[c] = true;
                }
            }

            for (var c = 1; c < classes; c++)
            {
                slices[c] += onSlice[c] ? 1 : 0;
            }
        }

        var structures = new List<VolumeStructure>();
        for (var c = 1; c < classes; c++)
        {
            var n = count[c];
            var measured = new VolumeStructure
            {
                Label = c < names.Count ? names[c] : $"label{c}",
                Index = c,
                Present = n >= minVoxels,
                Voxels = n,
                VolumeMl = Math.Round(n * g.VoxelMl, 3),
            };
            if (n > 0)
            {
                var centroid = g.ToWorld(sum[c, 0] / n, sum[c, 1] / n, sum[c, 2] / n);
                var corners = (from ci in new[] { box[c, 0], box[c, 3] }
                               from cj in new[] { box[c, 1], box[c, 4] }
                               from ck in new[] { box[c, 2], box[c, 5] }
                               select g.ToWorld(ci, cj, ck)).ToList();
                measured = measured with
                {
                    CentroidMm = [.. centroid.Select(v => Math.Round(v, 2))],
                    BoundingBoxMm = [.. Enumerable.Range(0, 3).Select(a => Math.Round(corners.Min(p => p[a]), 2)),
                        .. Enumerable.Range(0, 3).Select(a => Math.Round(corners.Max(p => p[a]), 2))],
                    BoundingBoxVoxels = [box[c, 0], box[c, 1], box[c, 2], box[c, 3], box[c, 4], box[c, 5]],
                    Slices = new SliceSpan(box[c, 2], box[c, 5], slices[c]),
                };
            }

            structures.Add(measured);
        }

        return new VolumePassport
        {
            Dimensions = [g.Nx, g.Ny, g.Nz],
            VoxelSizeMm = [Math.Round(g.Dx, 4), Math.Round(g.Dy, 4), Math.Round(g.Dz, 4)],
            Orientation = g.Orientation,
            Window = [volume.Window.Min, volume.Window.Max],
            Structures = structures,
        };
    }
}
