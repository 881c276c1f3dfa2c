using System.Diagnostics;
using System.Globalization;
using Actors.Inference.Models;
using Actors.Inference.Pipelines;

namespace Actors.Inference.Bench;

/// <summary><c>--preprocess DIR</c>: what turning an upload into the model's input tensor costs per
/// image (decode, channel check, resize, normalise) for every image in DIR, against a baseline
/// measured in the same run — the same call on raw float32 of the model's shape, which decodes
/// nothing — so the ratio, not the machine's speed of the moment, is what compares runs. Uses only
/// <see cref="ImageInput.ToTensor"/>, so the same file measures older commits too.</summary>
internal static class Preprocessing
{
    private static readonly Dictionary<string, string> Types = new(StringComparer.OrdinalIgnoreCase)
    {
        [".png"] = "image/png", [".jpg"] = "image/jpeg", [".jpeg"] = "image/jpeg", [".bmp"] = "image/bmp", [".tif"] = "image/tiff", [".webp"] = "image/webp",
    };

    public static int Run(ModelManifest manifest, string dir, double seconds)
    {
        var p = manifest.Preprocess;
        var raw = new InferenceRequest
        {
            Input = new byte[p.Channels * p.Height * p.Width * sizeof(float)],
            ContentType = ImageInput.RawFloat32,
            Shape = [p.Channels, p.Height, p.Width],
        };
        var cases = new List<(string Name, InferenceRequest Request)> { ("raw float32 (baseline)", raw) };
        foreach (var file in Directory.GetFiles(dir).Order(StringComparer.Ordinal))
        {
            if (Types.TryGetValue(Path.GetExtension(file), out var type))
            {
                cases.Add((Path.GetFileName(file), new InferenceRequest { Input = File.ReadAllBytes(file), ContentType = type }));
            }
        }

        Console.WriteLine($"preprocessing for {manifest.Name} ({p.Channels}x{p.Height}x{p.Width}), {cases.Count - 1} image(s) from {dir}, " +
                          $"{seconds:F1} s per case per round, 3 rounds");
        var best = new Dictionary<string, double>();
        for (var round = 1; round <= 3; round++)
        {
            foreach (var (name, request) in cases)
            {
                var us = Measure(manifest, request, seconds);
                best[name] = Math.Min(best.GetValueOrDefault(name, double.MaxValue), us);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  [{round}/3] {name,-28} {(double.IsNaN(us) ? "unsupported" : $"{us,10:F1} us/image")}"));
            }
        }

        var baseline = best[cases[0].Name];
        Console.WriteLine();
        Console.WriteLine($"{"input",-28} {"bytes",9} {"us/image",10} {"x baseline",11}");
        foreach (var (name, request) in cases)
        {
            var us = best[name];
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{name,-28} {request.Input.Length,9} {(double.IsNaN(us) ? "unsupported" : us.ToString("F1", CultureInfo.InvariantCulture)),10} {(double.IsNaN(us) ? "" : (us / baseline).ToString("F2", CultureInfo.InvariantCulture)),11}"));
        }

        return 0;
    }

    /// <summary>Microseconds per call, best of the run's 5 slices; NaN when the input is refused.</summary>
    private static double Measure(ModelManifest manifest, InferenceRequest request, double seconds)
    {
        try
        {
            _ = ImageInput.ToTensor(request, manifest, 100_000_000).Tensor;
        }
        catch (Exception e) when (e is Errors.ImageFormatException or Errors.InvalidInputException)
        {
            return double.NaN;
        }

        var best = double.MaxValue;
        for (var slice = 0; slice < 5; slice++)
        {
            var n = 0;
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed.TotalSeconds < seconds / 5)
            {
                _ = ImageInput.ToTensor(request, manifest, 100_000_000).Tensor;
                n++;
            }

            best = Math.Min(best, clock.Elapsed.TotalMicroseconds / n);
        }

        return best;
    }
}
