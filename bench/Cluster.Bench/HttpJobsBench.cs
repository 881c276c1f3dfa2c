using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Actors.Cluster.Bench;

/// <summary>End to end through HTTP: POST /v1/jobs (identity model, each job distinct so the
/// cache never answers) with Prefer: wait, answered when the job has run on the GPU host.</summary>
internal sealed class HttpJobsBench(HttpClient http, IReadOnlyList<string> apiKeys)
{
    private long _seed = Environment.TickCount64 * 1000;
    private long _sent;
    private int _failures;

    /// <summary>Jobs that did not succeed, over every phase so far.</summary>
    public int Failures => Volatile.Read(ref _failures);

    public async Task<Percentiles> SaturatedAsync(int clients, TimeSpan duration)
    {
        var latencies = new List<double>();
        var failures = 0;
        using var stop = new CancellationTokenSource(duration);
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var (ok, ms) = await OneAsync();
                lock (latencies)
                {
                    if (ok)
                    {
                        latencies.Add(ms);
                    }
                    else
                    {
                        failures++;
                    }
                }
            }
        })));
        if (failures > 0)
        {
            Console.WriteLine($"  ({failures} jobs did not succeed)");
        }

        return Percentiles.Of(latencies, clock.Elapsed);
    }

    public async Task<Percentiles> AtRateAsync(int perSecond, TimeSpan duration)
    {
        var latencies = new List<double>();
        var tasks = new List<Task>();
        var clock = Stopwatch.StartNew();
        var sent = 0;
        while (clock.Elapsed < duration)
        {
            while (sent < clock.Elapsed.TotalSeconds * perSecond)
            {
                sent++;
                tasks.Add(Task.Run(async () =>
                {
                    var (ok, ms) = await OneAsync();
                    if (ok)
                    {
                        lock (latencies)
                        {
                            latencies.Add(ms);
                        }
                    }
                }));
            }

            await Task.Delay(1);
        }

        await Task.WhenAll(tasks);
        return Percentiles.Of(latencies, duration);
    }

    public async Task<(bool Ok, double Ms)> OneAsync()
    {
        // Each job distinct: the counter spread over three floats of 20 bits each (a float holds
        // integers exactly only up to 2^24; one float of a large counter made repeats, and cache hits).
        var seed = Interlocked.Increment(ref _seed);
        var values = new float[16];
        values[0] = seed & 0xFFFFF;
        values[1] = (seed >> 20) & 0xFFFFF;
        values[2] = (seed >> 40) & 0xFFFFF;
        var body = new
        {
            model = "identity",
            input = Convert.ToBase64String(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray()),
            contentType = "application/octet-stream",
            parameters = new { shape = new[] { 1, 1, 16 } },
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/jobs") { Content = JsonContent.Create(body) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKeys[(int)(Interlocked.Increment(ref _sent) % apiKeys.Count)]);
        request.Headers.Add("Prefer", "wait=30");
        var start = Stopwatch.GetTimestamp();
        using var response = await http.SendAsync(request);
        var ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        if (!response.IsSuccessStatusCode)
        {
            if (Interlocked.Increment(ref _failures) <= 5)
            {
                Console.WriteLine($"  job refused: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }

            return (false, ms);
        }

        var job = await response.Content.ReadFromJsonAsync<JsonElement>();
        var ok = job.GetProperty("status").GetString() == "succeeded";
        if (!ok && Interlocked.Increment(ref _failures) <= 5)
        {
            Console.WriteLine($"  job did not succeed: {job}");
        }

        return (ok, ms);
    }
}
