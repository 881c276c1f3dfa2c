using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using Actors.Inference.Pipelines;
using Actors.Inference.Tests;
using Actors.Inference.Volumes;

namespace Actors.Inference.Bench;

/// <summary>A 256×256×128 phantom CT volume end to end: the engine called directly on it (the
/// baseline: every slice through the dynamic batcher, in this process) against the same file
/// through the API of a running silo (upload, validation, blob store, queue, GPU host, label
/// volume, answer), interleaved; slices/s each, the ratio, and this process's peak memory.</summary>
internal static class VolumeBench
{
    public const int Nx = 256, Ny = 256, Nz = 128;

    /// <summary>The bench's 256×256×128 phantom; <paramref name="small"/>: the README's sample
    /// (models/segmentation/sample.nii.gz), 128×128×32 at 1.5 × 1.5 × 3 mm.</summary>
    public static int Write(string path, bool small)
    {
        var (nx, ny, nz) = small ? (128, 128, 32) : (Nx, Ny, Nz);
        var organs = small
            ? PhantomVolumes.Organs.Select(o => o with { Ck = o.Ck * 32 / 48, Rk = o.Rk * 32 / 48 }).ToArray()
            : PhantomVolumes.Organs.Select(o => o with { Ci = o.Ci * 2, Cj = o.Cj * 2, Ck = o.Ck * 2.5, Ri = o.Ri * 2, Rj = o.Rj * 2, Rk = o.Rk * 2.5 }).ToArray();
        var (dx, dz) = small ? (1.5, 3.0) : (0.75, 1.0);
        var file = PhantomVolumes.Nifti(PhantomVolumes.Draw(nx, ny, nz, organs, seed: 5), nx, ny, nz, dx, dx, dz, gzip: true);
        File.WriteAllBytes(path, file);
        Console.WriteLine($"wrote {path}: {nx}×{ny}×{nz} int16, {file.Length / 1e6:F2} MB gzipped");
        foreach (var o in organs)
        {
            Console.WriteLine($"  label {o.Label}: {o.VolumeMl(dx, dx, dz):F1} ml (analytic)");
        }

        return 0;
    }

    public static async Task<int> RunAsync(InferenceEngine engine, string path, BenchSettings settings)
    {
        var file = await File.ReadAllBytesAsync(path);
        using var http = new HttpClient { BaseAddress = new Uri(settings.ApiUrl ?? throw new ArgumentException("--volume needs --api URL")), Timeout = TimeSpan.FromMinutes(20) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", settings.ApiKey ?? throw new ArgumentException("--volume needs --key"));

        var direct = new List<double>();
        var api = new List<double>();
        for (var round = 1; round <= settings.VolumeRounds; round++)
        {
            Console.WriteLine($"[{round}/{settings.VolumeRounds}] engine direct ...");
            var clock = Stopwatch.StartNew();
            var output = (VolumeSegmentationOutput)await engine.RunAsync("segmentation",
                new InferenceRequest { Input = file, ContentType = Nifti.ContentType, Progress = new Dots() });
            direct.Add(Nz / clock.Elapsed.TotalSeconds);
            Console.WriteLine($"  {direct[^1]:F1} slices/s ({clock.Elapsed.TotalSeconds:F1} s; liver {output.Passport.Structures[0].VolumeMl} ml)");

            Console.WriteLine($"[{round}/{settings.VolumeRounds}] through the API ...");
            clock.Restart();
            using var form = new MultipartFormDataContent { { new StringContent("segmentation"), "model" } };
            var part = new ByteArrayContent(file);
            part.Headers.ContentType = new MediaTypeHeaderValue("application/gzip");
            form.Add(part, "input", $"bench-{round}-{Guid.NewGuid():N}.nii.gz");
            // Each round's job differs (the 2-D spacing, which a volume does not use: its voxel
            // size is in its header) so a later round is not a cache hit.
            form.Add(new StringContent((1 + round / 100.0).ToString(CultureInfo.InvariantCulture)), "spacingXMm");
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/jobs") { Content = form };
            request.Headers.Add("Prefer", "wait=600");
            using var response = await http.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            var job = JsonDocument.Parse(body).RootElement;
            if (!response.IsSuccessStatusCode || job.GetProperty("status").GetString() != "succeeded")
            {
                Console.Error.WriteLine($"bench: the API answered {(int)response.StatusCode}: {body}");
                return 1;
            }

            api.Add(Nz / clock.Elapsed.TotalSeconds);
            Console.WriteLine($"  {api[^1]:F1} slices/s ({clock.Elapsed.TotalSeconds:F1} s, cache hit: {job.GetProperty("cacheHit").GetBoolean()})");
        }

        var best = (Direct: direct.Max(), Api: api.Max());
        Console.WriteLine($"volume {Nx}×{Ny}×{Nz} ({file.Length / 1e6:F1} MB gz) on {engine.Device}, {TorchRuntime.Threads} thread(s):");
        Console.WriteLine($"  engine direct  {best.Direct,7:F1} slices/s (best of {direct.Count})");
        Console.WriteLine($"  through API    {best.Api,7:F1} slices/s (best of {api.Count})");
        Console.WriteLine($"  ratio API / direct: {best.Api / best.Direct:F3}");
        Console.WriteLine($"  peak memory of this process (engine direct): {Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:F0} MiB");
        return 0;
    }

    private sealed class Dots : IProgress<(int Done, int Total)>
    {
        public void Report((int Done, int Total) value)
        {
            if (value.Done % 32 == 0 || value.Done == value.Total)
            {
                Console.WriteLine($"  {value.Done}/{value.Total} slices");
            }
        }
    }
}
