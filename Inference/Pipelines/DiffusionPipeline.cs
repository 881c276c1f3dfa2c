using Actors.Inference.Errors;
using Actors.Inference.Imaging;
using Actors.Inference.Models;
using Actors.Inference.Tensors;

namespace Actors.Inference.Pipelines;

/// <summary>Seed → Gaussian noise → a whole DDIM run on the device through the batcher
/// (concurrent requests with the same step count share every step's forward) → 8-bit RGB PNG.
/// A model with a <c>class</c> input is asked for one of its labels (the prompt; none: the
/// unconditional model) at a classifier-free guidance scale.</summary>
internal static class DiffusionPipeline
{
    public static async Task<DiffusionOutput> RunAsync(LoadedModel model, InferenceRequest request, CancellationToken ct)
    {
        var manifest = model.Manifest;
        var (steps, prompt, guidance) = Resolve(manifest, request);
        var p = manifest.Preprocess;
        var inputs = new List<Tensor>
        {
            Tensor.FromFloat32(new GaussianNoise(request.Seed).Next(p.Channels * p.Height * p.Width), 1, p.Channels, p.Height, p.Width),
            Tensor.FromInt64(new DdimSchedule(manifest.Postprocess).Row(steps), 1, steps),
        };
        foreach (var extra in manifest.Inputs.Skip(2))
        {
            inputs.Add(extra.Name == "class"
                ? Tensor.FromInt64([prompt is null ? manifest.Labels.Count : IndexOf(manifest, prompt)], 1)
                : Tensor.FromFloat32([(float)guidance], 1));
        }

        var image = (await model.ForwardAsync(inputs, ct))[0];
        var png = ToPng(image.Floats, p.Channels, p.Width, p.Height);
        image.Recycle();
        return new DiffusionOutput
        {
            Model = manifest.Name,
            Version = manifest.Version,
            Device = model.Device,
            Steps = steps,
            Seed = request.Seed,
            Prompt = prompt,
            Guidance = manifest.Inputs.Any(i => i.Name == "guidance") ? guidance : null,
            Width = p.Width,
            Height = p.Height,
            Png = png,
        };
    }

    /// <summary>The request's steps, prompt (as the label is spelled) and guidance, checked
    /// against the manifest; the API runs this before accepting a job.</summary>
    public static (int Steps, string? Prompt, double Guidance) Resolve(ModelManifest manifest, InferenceRequest request)
    {
        var schedule = manifest.Postprocess;
        var steps = request.Steps ?? schedule.DefaultSteps;
        if (steps < 1 || steps > schedule.MaxSteps || steps > schedule.Timesteps)
        {
            throw new InvalidInputException($"steps must be between 1 and {Math.Min(schedule.MaxSteps, schedule.Timesteps)}; got {steps}");
        }

        var conditional = manifest.Inputs.Any(i => i.Name == "class");
        string? prompt = null;
        if (!string.IsNullOrWhiteSpace(request.Prompt))
        {
            if (!conditional)
            {
                throw new InvalidInputException($"model '{manifest.Name}' takes no prompt");
            }

            var wanted = string.Join(' ', request.Prompt.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
            prompt = manifest.Labels.FirstOrDefault(l => string.Equals(l, wanted, StringComparison.OrdinalIgnoreCase))
                ?? throw new InvalidInputException(
                    $"prompt '{Shorten(request.Prompt)}' is not one this model draws; it draws: {string.Join(", ", manifest.Labels.Select(l => $"'{l}'"))}");
        }

        var guidance = request.Guidance ?? schedule.Guidance;
        if (request.Guidance is not null && !manifest.Inputs.Any(i => i.Name == "guidance"))
        {
            throw new InvalidInputException($"model '{manifest.Name}' takes no guidance");
        }

        if (!(guidance >= 0 && guidance <= schedule.MaxGuidance))
        {
            throw new InvalidInputException($"guidance must be between 0 and {schedule.MaxGuidance}; got {guidance}");
        }

        return (steps, prompt, guidance);
    }

    private static int IndexOf(ModelManifest manifest, string label) =>
        manifest.Labels.Select((l, i) => (l, i)).First(x => x.l == label).i;

    private static string Shorten(string text) => text.Length > 64 ? text[..64] + "…" : text;

    private static byte[] ToPng(ReadOnlySpan<float> planar, int channels, int width, int height)
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
