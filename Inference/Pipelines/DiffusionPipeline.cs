using Actors.Inference.Errors;
using Actors.Inference.Imaging;
using Actors.Inference.Tensors;

namespace Actors.Inference.Pipelines;

/// <summary>Seed → Gaussian noise → DDIM steps through the batcher (concurrent samplers share
/// forwards) → 8-bit RGB PNG.</summary>
internal static class DiffusionPipeline
{
    public static async Task<DiffusionOutput> RunAsync(LoadedModel model, InferenceRequest request, CancellationToken ct)
    {
        var manifest = model.Manifest;
        var schedule = manifest.Postprocess;
        var steps = request.Steps ?? schedule.DefaultSteps;
        if (steps < 1 || steps > schedule.MaxSteps || steps > schedule.Timesteps)
        {
            throw new InvalidInputException($"steps must be between 1 and {Math.Min(schedule.MaxSteps, schedule.Timesteps)}; got {steps}");
        }

        var p = manifest.Preprocess;
        var sampler = new DdimSampler(schedule);
        var x = new GaussianNoise(request.Seed).Next(p.Channels * p.Height * p.Width);
        var x0 = x;
        var timesteps = sampler.Timesteps(steps);
        for (var i = 0; i < timesteps.Length; i++)
        {
            ct.ThrowIfCancellationRequested();
            var t = timesteps[i];
            var inputs = new[]
            {
                Tensor.FromFloat32((float[])x.Clone(), 1, p.Channels, p.Height, p.Width),
                Tensor.FromInt64([t], 1),
            };
            var eps = (await model.ForwardAsync(inputs, ct))[0].Floats;
            x0 = sampler.Step(x, eps, t, i + 1 < timesteps.Length ? timesteps[i + 1] : -1);
        }

        return new DiffusionOutput
        {
            Model = manifest.Name,
            Version = manifest.Version,
            Device = model.Device,
            Steps = steps,
            Seed = request.Seed,
            Width = p.Width,
            Height = p.Height,
            Png = ToPng(x0, p.Channels, p.Width, p.Height),
        };
    }

    private static byte[] ToPng(float[] planar, int channels, int width, int height)
    {
        var plane = width * height;
        var interleaved = new byte[plane * channels];
        for (var i = 0; i < plane; i++)
        {
            for (var c = 0; c < channels; c++)
            {
                interleaved[i * channels + c] = (byte)Math.Clamp(Math.Round((planar[c * plane + i] + 1) * 127.5), 0, 255);
            }
        }

        return ImageCodec.EncodePng(width, height, channels, interleaved);
    }
}
