using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Actors.Cluster.Bench;

/// <summary>Many jobs with <c>Prefer: wait</c>, the silo's memory read after a full GC
/// (<c>POST /admin/memory/collect</c>) at checkpoints: what stays behind per job (waiters,
/// activations past their idle time, caches) shows as growth between them.</summary>
internal static class MemorySoak
{
    private static readonly double[] Fractions = [0.05, 0.25, 0.5, 0.75, 1.0];

    public static async Task<int> RunAsync(HttpClient http, HttpJobsBench jobs, string adminKey, int total, int clients, double maxGrowthMb)
    {
        var checkpoints = Fractions.Select(f => Math.Max(1, (int)(total * f))).Distinct().ToList();
        var done = 0;
        var failed = 0;
        var clock = Stopwatch.StartNew();
        var readings = new List<(int Jobs, long Heap, long WorkingSet)>();
        foreach (var checkpoint in checkpoints)
        {
            var batch = checkpoint - done;
            var next = 0;
            await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
            {
                while (Interlocked.Increment(ref next) <= batch)
                {
                    var (ok, _) = await jobs.OneAsync();
                    if (!ok)
                    {
                        Interlocked.Increment(ref failed);
                    }
                }
            })));
            done = checkpoint;
            var (heap, workingSet) = await CollectAsync(http, adminKey);
            readings.Add((done, heap, workingSet));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {done,8} jobs ({done / clock.Elapsed.TotalSeconds:0}/s): heap after full GC {heap / 1e6:0.0} MB, working set {workingSet / 1e6:0.0} MB"));
        }

        var (first, last) = (readings[0], readings[^1]);
        var growth = (last.Heap - first.Heap) / 1e6;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"soak: {total} jobs, {failed} failed; heap after full GC grew {growth:0.0} MB from {first.Jobs} to {last.Jobs} jobs ({(last.Heap - first.Heap) / (double)Math.Max(1, last.Jobs - first.Jobs):0} B per job); working set {first.WorkingSet / 1e6:0} → {last.WorkingSet / 1e6:0} MB"));
        if (failed > 0 || growth > maxGrowthMb)
        {
            Console.WriteLine($"FAILED: {failed} jobs failed; growth {growth:0.0} MB (limit {maxGrowthMb} MB)");
            return 1;
        }

        return 0;
    }

    private static async Task<(long Heap, long WorkingSet)> CollectAsync(HttpClient http, string adminKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/admin/memory/collect");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", adminKey);
        using var response = await http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        return (body.GetProperty("heapBytes").GetInt64(), body.GetProperty("workingSetBytes").GetInt64());
    }
}
