using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Actors.Silo.Commands;

/// <summary>One stage of a scenario: ramp linearly to <see cref="Target"/> virtual users over
/// <see cref="Duration"/> (k6's stages).</summary>
internal sealed record Stage(TimeSpan Duration, int Target);

internal sealed record Scenario(string Name, string Description, IReadOnlyList<Stage> Stages, double P95Ms, double MaxFailureRate)
{
    public static Scenario For(string name, double scale, TimeSpan? soak) => name switch
    {
        "smoke" => new(name, "1 user for 10 s: does it work at all", [new(S(10, scale), 1)], 2000, 0.0),
        "average" => new(name, "ramp to 10 users, hold, ramp down", [new(S(10, scale), 10), new(S(30, scale), 10), new(S(10, scale), 0)], 2000, 0.01),
        "stress" => new(name, "progressive concurrency 10 → 20 → 40 → 60 users, then down", [new(S(10, scale), 10), new(S(15, scale), 20), new(S(15, scale), 40), new(S(15, scale), 60), new(S(10, scale), 0)], 5000, 0.05),
        "spike" => new(name, "2 users, a spike to 80, back to 2", [new(S(10, scale), 2), new(S(2, scale), 80), new(S(10, scale), 80), new(S(2, scale), 2), new(S(10, scale), 2)], 10000, 0.10),
        "soak" => new(name, "10 users for a long time", [new(S(5, scale), 10), new(soak ?? S(300, scale), 10), new(S(5, scale), 0)], 2000, 0.01),
        _ => throw new ArgumentException($"unknown scenario '{name}' (smoke, average, stress, spike, soak)"),
    };

    private static TimeSpan S(double seconds, double scale) => TimeSpan.FromSeconds(Math.Max(1, seconds * scale));

    public TimeSpan Total => Stages.Aggregate(TimeSpan.Zero, (t, s) => t + s.Duration);

    /// <summary>Virtual users wanted at <paramref name="elapsed"/> (linear ramps).</summary>
    public int UsersAt(TimeSpan elapsed)
    {
        var from = 0;
        foreach (var stage in Stages)
        {
            if (elapsed < stage.Duration)
            {
                return (int)Math.Ceiling(from + (stage.Target - from) * (elapsed / stage.Duration) - 1e-9);
            }

            elapsed -= stage.Duration;
            from = stage.Target;
        }

        return 0;
    }
}

/// <summary>Per request name: latencies and failures.</summary>
internal sealed class RequestStats
{
    private readonly List<double> _ms = [];
    private readonly Dictionary<string, int> _failures = new(StringComparer.Ordinal);

    public void Add(double ms, string? failure)
    {
        lock (_ms)
        {
            _ms.Add(ms);
            if (failure is not null)
            {
                _failures[failure] = _failures.GetValueOrDefault(failure) + 1;
            }
        }
    }

    public int Count
    {
        get
        {
            lock (_ms)
            {
                return _ms.Count;
            }
        }
    }

    public (int Count, int Failed, double P50, double P90, double P95, double P99, double Max, IReadOnlyDictionary<string, int> Failures) Summary()
    {
        lock (_ms)
        {
            var sorted = _ms.Order().ToArray();
            double P(double p) => sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
            return (sorted.Length, _failures.Values.Sum(), P(0.50), P(0.90), P(0.95), P(0.99), sorted.Length == 0 ? 0 : sorted[^1], new Dictionary<string, int>(_failures));
        }
    }
}

/// <summary><c>silo loadtest</c>: k6-style scenarios against the HTTP API on loopback. Each
/// virtual user submits a job (identity model, a distinct input, <c>Prefer: wait=30</c>) and
/// reads it back; the report gives req/s, p50/p90/p95/p99 and the failure rate per request,
/// and the scenario's thresholds set the exit code (99 when crossed, like k6).</summary>
internal static class LoadTestCommand
{
    public const int ThresholdsCrossed = 99;
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };
    private static readonly int[] Shape = [1, 1, 16];

    public static Command Create()
    {
        var url = new Option<string>("--url") { Description = "The silo (loopback only)", DefaultValueFactory = _ => "http://127.0.0.1:5080" };
        var scenario = new Option<string>("--scenario") { Description = "smoke, average, stress, spike or soak", DefaultValueFactory = _ => "smoke" };
        var adminKey = new Option<string?>("--admin-key") { Description = "Creates a load-test tenant with it (default: the file data/admin-key)" };
        var key = new Option<string?>("--key") { Description = "A tenant API key to use instead of creating one" };
        var scale = new Option<double>("--time-scale") { Description = "Multiply every stage's duration", DefaultValueFactory = _ => 1 };
        var soak = new Option<double?>("--soak-seconds") { Description = "How long the soak holds" };
        var p95 = new Option<double?>("--p95-ms") { Description = "Threshold: p95 of POST /v1/jobs in ms (the scenario's by default)" };
        var failures = new Option<double?>("--max-failure-rate") { Description = "Threshold: failed requests / all (the scenario's by default)" };
        var json = new Option<bool>("--json") { Description = "Print the report as JSON" };
        var observe = new Option<bool>("--observing-cost") { Description = "Instead of a scenario: GET /v1/jobs/{id} req/s with metrics recording on and off, alternating (needs the admin key)" };
        var command = new Command("loadtest", "Load-test the HTTP API on loopback (scenarios smoke, average, stress, spike, soak)")
        {
            url, scenario, adminKey, key, scale, soak, p95, failures, json, observe,
        };
        command.SetAction(async (parse, ct) =>
        {
            Scenario chosen;
            try
            {
                chosen = Scenario.For(parse.GetValue(scenario)!, parse.GetValue(scale), parse.GetValue(soak) is { } s ? TimeSpan.FromSeconds(s) : null);
            }
            catch (ArgumentException e)
            {
                Console.Error.WriteLine($"loadtest: {e.Message}");
                return 2;
            }

            if (!Uri.TryCreate(parse.GetValue(url), UriKind.Absolute, out var target) || !IsLoopback(target))
            {
                Console.Error.WriteLine($"loadtest: --url must be an http URL on loopback (127.0.0.1, ::1 or localhost); got '{parse.GetValue(url)}'");
                return 2;
            }

            chosen = chosen with { P95Ms = parse.GetValue(p95) ?? chosen.P95Ms, MaxFailureRate = parse.GetValue(failures) ?? chosen.MaxFailureRate };
            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 512 }) { BaseAddress = target, Timeout = TimeSpan.FromSeconds(60) };
            string tenantKey;
            try
            {
                tenantKey = parse.GetValue(key) ?? await CreateTenantAsync(http, parse.GetValue(adminKey) ?? ReadAdminKey(), ct);
            }
            catch (Exception e) when (e is HttpRequestException or InvalidOperationException or IOException)
            {
                Console.Error.WriteLine($"loadtest: cannot set up a tenant at {target}: {e.Message}");
                return 2;
            }

            if (parse.GetValue(observe))
            {
                return await ObservingCostAsync(http, tenantKey, parse.GetValue(adminKey) ?? ReadAdminKey(), ct);
            }

            var report = await RunAsync(http, tenantKey, chosen, !parse.GetValue(json), ct);
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(report, Json));
            }
            else
            {
                Print(report);
            }

            return report.Passed ? 0 : ThresholdsCrossed;
        });
        return command;
    }

    internal static bool IsLoopback(Uri uri) =>
        uri.Scheme == Uri.UriSchemeHttp && (uri.IsLoopback || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip)));

    private static string ReadAdminKey()
    {
        var path = Path.Combine("data", "admin-key");
        return File.Exists(path) ? File.ReadAllText(path).Trim() : throw new InvalidOperationException("no --key, no --admin-key and no data/admin-key file");
    }

    private static async Task<string> CreateTenantAsync(HttpClient http, string adminKey, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/admin/tenants") { Content = JsonContent.Create(new { name = "loadtest", tier = "enterprise" }) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", adminKey);
        using var response = await http.SendAsync(request, ct);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"POST /admin/tenants answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(ct)}");
        }

        return (await response.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("apiKey").GetString()!;
    }

    internal sealed record RequestReport(string Name, int Count, double PerSecond, double P50Ms, double P90Ms, double P95Ms, double P99Ms, double MaxMs, double FailureRate, IReadOnlyDictionary<string, int> Failures);

    internal sealed record Report(string Scenario, double Seconds, int MaxUsers, int Iterations, IReadOnlyList<RequestReport> Requests, double P95Threshold, double FailureThreshold, bool Passed);

    private static async Task<Report> RunAsync(HttpClient http, string key, Scenario scenario, bool progress, CancellationToken ct)
    {
        var submit = new RequestStats();
        var read = new RequestStats();
        var iterations = 0;
        var maxUsers = 0;
        var users = new List<(Task Task, CancellationTokenSource Stop)>();
        var clock = Stopwatch.StartNew();
        var seed = Environment.TickCount64 * 1000;
        if (progress)
        {
            Console.WriteLine($"loadtest: {scenario.Name} — {scenario.Description}; {scenario.Total.TotalSeconds:0} s against {http.BaseAddress}");
        }

        async Task UserAsync(CancellationToken stop)
        {
            while (!stop.IsCancellationRequested && !ct.IsCancellationRequested)
            {
                var id = await SubmitAsync(http, key, Interlocked.Increment(ref seed), submit);
                if (id is not null)
                {
                    await ReadAsync(http, key, id, read);
                }

                Interlocked.Increment(ref iterations);
            }
        }

        var lastPrint = TimeSpan.Zero;
        while (clock.Elapsed < scenario.Total && !ct.IsCancellationRequested)
        {
            var want = scenario.UsersAt(clock.Elapsed);
            while (users.Count < want)
            {
                var stop = new CancellationTokenSource();
                users.Add((Task.Run(() => UserAsync(stop.Token), CancellationToken.None), stop));
            }

            while (users.Count > want)
            {
                await users[^1].Stop.CancelAsync();
                users.RemoveAt(users.Count - 1);
            }

            maxUsers = Math.Max(maxUsers, users.Count);
            if (progress && clock.Elapsed - lastPrint >= TimeSpan.FromSeconds(1))
            {
                lastPrint = clock.Elapsed;
                var done = clock.Elapsed / scenario.Total;
                var bar = new string('█', (int)(done * 30)).PadRight(30, '░');
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  [{bar}] {done:P0}  {users.Count,3} users  {submit.Count + read.Count,7} requests  {(submit.Count + read.Count) / clock.Elapsed.TotalSeconds,7:0.0} req/s"));
            }

            await Task.Delay(100, CancellationToken.None);
        }

        foreach (var (_, stop) in users)
        {
            await stop.CancelAsync();
        }

        await Task.WhenAll(users.Select(u => u.Task));
        var seconds = clock.Elapsed.TotalSeconds;
        foreach (var (_, stop) in users)
        {
            stop.Dispose();
        }

        RequestReport Of(string name, RequestStats stats)
        {
            var s = stats.Summary();
            return new RequestReport(name, s.Count, s.Count / seconds, s.P50, s.P90, s.P95, s.P99, s.Max, s.Count == 0 ? 0 : s.Failed / (double)s.Count, s.Failures);
        }

        var requests = new[] { Of("POST /v1/jobs (wait)", submit), Of("GET /v1/jobs/{id}", read) };
        var total = requests.Sum(r => r.Count);
        var failureRate = total == 0 ? 1 : requests.Sum(r => r.FailureRate * r.Count) / total;
        var passed = total > 0 && requests[0].P95Ms <= scenario.P95Ms && failureRate <= scenario.MaxFailureRate;
        return new Report(scenario.Name, seconds, maxUsers, iterations, requests, scenario.P95Ms, scenario.MaxFailureRate, passed);
    }

    /// <summary>Reads of one job by 16 users, in 5-second phases alternating metrics recording
    /// on and off (PUT /admin/metrics/recording), six of each; prints req/s of each and the ratio.</summary>
    private static async Task<int> ObservingCostAsync(HttpClient http, string key, string adminKey, CancellationToken ct)
    {
        var warm = new RequestStats();
        var ids = new List<string>();
        for (var i = 0; i < 16; i++)
        {
            ids.Add(await SubmitAsync(http, key, Environment.TickCount64 * 100 + i, warm) ?? throw new InvalidOperationException("could not submit a job to read"));
        }

        async Task SetAsync(bool enabled)
        {
            using var request = new HttpRequestMessage(HttpMethod.Put, "/admin/metrics/recording") { Content = JsonContent.Create(new { enabled }) };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", adminKey);
            using var response = await http.SendAsync(request, ct);
            response.EnsureSuccessStatusCode();
        }

        async Task<double> PhaseAsync(TimeSpan length)
        {
            var stats = new RequestStats();
            var clock = Stopwatch.StartNew();
            await Task.WhenAll(ids.Select(id => Task.Run(async () =>
            {
                while (clock.Elapsed < length)
                {
                    await ReadAsync(http, key, id, stats);
                }
            })));
            var s = stats.Summary();
            return (s.Count - s.Failed) / clock.Elapsed.TotalSeconds;
        }

        // Both paths warmed (JIT tiers, pools) first; then rounds alternate which goes first
        // (on-off, off-on, …) so a drift of the machine's speed falls on both alike.
        Console.WriteLine("loadtest: observing cost — GET /v1/jobs/{id}, 16 users, 5 s phases, metrics on/off in ABBA order (after 5 s of warm-up in each)");
        foreach (var enabled in new[] { true, false })
        {
            await SetAsync(enabled);
            await PhaseAsync(TimeSpan.FromSeconds(5));
        }

        var on = new List<double>();
        var off = new List<double>();
        const int rounds = 6;
        for (var round = 0; round < rounds; round++)
        {
            foreach (var enabled in round % 2 == 0 ? new[] { true, false } : [false, true])
            {
                await SetAsync(enabled);
                (enabled ? on : off).Add(await PhaseAsync(TimeSpan.FromSeconds(5)));
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  round {round + 1}/{rounds} ({(round % 2 == 0 ? "on first" : "off first")}): metrics on {on[^1]:0} req/s, off {off[^1]:0} req/s"));
        }

        await SetAsync(true);
        var ratio = on.Average() / off.Average();
        var ratios = on.Zip(off, (a, b) => a / b).Order().ToList();
        var median = (ratios[(rounds - 1) / 2] + ratios[rounds / 2]) / 2;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"metrics on {on.Average():0} req/s, off {off.Average():0} req/s: on/off = {ratio:0.000} (median of rounds {median:0.000}); cost {(1 - ratio) * 100:0.0} % (aim < 5 %)"));
        return 0;
    }

    private static async Task<string?> SubmitAsync(HttpClient http, string key, long seed, RequestStats stats)
    {
        var values = new float[16];
        values[0] = seed;
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/jobs")
        {
            Content = JsonContent.Create(new
            {
                model = "identity",
                input = Convert.ToBase64String(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray()),
                contentType = "application/octet-stream",
                parameters = new { shape = Shape },
            }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        request.Headers.Add("Prefer", "wait=30");
        var clock = Stopwatch.StartNew();
        try
        {
            using var response = await http.SendAsync(request);
            var body = response.IsSuccessStatusCode ? await response.Content.ReadFromJsonAsync<JsonElement>() : default;
            var ok = response.IsSuccessStatusCode && body.GetProperty("status").GetString() == "succeeded";
            stats.Add(clock.Elapsed.TotalMilliseconds, ok ? null : response.IsSuccessStatusCode ? $"job {body.GetProperty("status").GetString()}" : $"HTTP {(int)response.StatusCode}");
            return response.IsSuccessStatusCode ? body.GetProperty("id").GetString() : null;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException)
        {
            stats.Add(clock.Elapsed.TotalMilliseconds, e.GetType().Name);
            return null;
        }
    }

    private static async Task ReadAsync(HttpClient http, string key, string id, RequestStats stats)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/jobs/{id}");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        var clock = Stopwatch.StartNew();
        try
        {
            using var response = await http.SendAsync(request);
            stats.Add(clock.Elapsed.TotalMilliseconds, response.IsSuccessStatusCode ? null : $"HTTP {(int)response.StatusCode}");
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            stats.Add(clock.Elapsed.TotalMilliseconds, e.GetType().Name);
        }
    }

    private static void Print(Report r)
    {
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"scenario {r.Scenario}: {r.Seconds:0.0} s, up to {r.MaxUsers} users, {r.Iterations} iterations"));
        Console.WriteLine("| request | count | req/s | p50 ms | p90 ms | p95 ms | p99 ms | max ms | failed |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var q in r.Requests)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {q.Name} | {q.Count} | {q.PerSecond:0.0} | {q.P50Ms:0.0} | {q.P90Ms:0.0} | {q.P95Ms:0.0} | {q.P99Ms:0.0} | {q.MaxMs:0.0} | {q.FailureRate:P2} |"));
            foreach (var (why, n) in q.Failures)
            {
                Console.WriteLine($"    {n} × {why}");
            }
        }

        var p95 = r.Requests[0].P95Ms;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"thresholds: p95(POST /v1/jobs) {p95:0.0} ms ≤ {r.P95Threshold:0} ms {(p95 <= r.P95Threshold ? "✓" : "✗")}; failure rate ≤ {r.FailureThreshold:P1} {(r.Requests.All(q => q.FailureRate <= r.FailureThreshold) ? "✓" : "✗")} → {(r.Passed ? "passed" : "FAILED (exit 99)")}"));
    }
}
