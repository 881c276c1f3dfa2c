using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Actors.Cluster.Bench;
using Npgsql;

// End-to-end jobs/s and added latency through HTTP, beside the raw queue on the same PostgreSQL.
// Usage: dotnet Actors.Cluster.Bench.dll --pg "<connection string>" [--store postgres|sqlite] [--redis host:port]
//        [--seconds 10] [--clients 32] [--rate 100] [--tenants 1] [--soak N [--max-growth-mb 50]]
// --store sqlite runs the silo embedded (SQLite grain state, queue and reminders); the raw queue
// baseline stays on PostgreSQL. --redis makes the silo meet its cluster through that Redis.
// Also prints the storage each job left (database and blobs) beyond its 64-byte input.
var options = args.Select((a, i) => (a, i)).Where(x => x.a.StartsWith("--", StringComparison.Ordinal))
    .ToDictionary(x => x.a[2..], x => x.i + 1 < args.Length ? args[x.i + 1] : "");
var server = options.GetValueOrDefault("pg") ?? Environment.GetEnvironmentVariable("ACTORS_BENCH_PG")
    ?? throw new ArgumentException("--pg <connection string> (or ACTORS_BENCH_PG) is required");
var seconds = TimeSpan.FromSeconds(double.Parse(options.GetValueOrDefault("seconds", "10"), CultureInfo.InvariantCulture));
var clients = int.Parse(options.GetValueOrDefault("clients", "32"), CultureInfo.InvariantCulture);
var rate = int.Parse(options.GetValueOrDefault("rate", "100"), CultureInfo.InvariantCulture);
var tenants = int.Parse(options.GetValueOrDefault("tenants", "1"), CultureInfo.InvariantCulture);
var storeKind = options.GetValueOrDefault("store", "postgres");
var redis = options.GetValueOrDefault("redis");
var smoke = options.ContainsKey("smoke"); // scripts/test: a short run that must work, numbers aside
var warmupTime = TimeSpan.FromSeconds(smoke ? 1 : 3);
if (storeKind is not ("postgres" or "sqlite"))
{
    throw new ArgumentException("--store must be postgres or sqlite");
}
const string adminKey = "adm_bench_0123456789";

Console.WriteLine($"cluster bench: {Environment.ProcessorCount} cores, {seconds.TotalSeconds:0} s per phase, {clients} clients over {tenants} tenant(s), fixed rate {rate}/s, silo store {storeKind}{(redis is null ? "" : ", Redis " + redis)}");
var repo = FindRepo();
var siloDb = CreateDatabase(server, "bench_silo");
var dataPath = Directory.CreateTempSubdirectory("actors-bench-").FullName;
using var silo = StartSilo(repo, storeKind, siloDb, redis, dataPath, adminKey, out var url);
using var http = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(60) };
await WaitReadyAsync(http, silo);
var keys = new List<string>();
for (var i = 0; i < tenants; i++)
{
    keys.Add(await CreateTenantAsync(http, adminKey));
}

var e2e = new HttpJobsBench(http, keys);
if (options.TryGetValue("soak", out var soakJobs))
{
    // --soak N [--max-growth-mb 50]: the memory soak alone (bench/cluster-bench.sh --soak 200000).
    var soakCode = await MemorySoak.RunAsync(http, e2e, adminKey, int.Parse(soakJobs, CultureInfo.InvariantCulture), clients,
        double.Parse(options.GetValueOrDefault("max-growth-mb", "50"), CultureInfo.InvariantCulture));
    silo.Kill(entireProcessTree: true);
    return soakCode;
}

var bytesBefore = StoredBytes(storeKind, siloDb, dataPath);
var siloStatements = storeKind == "postgres" ? StatementCounter.For(siloDb) : null;

Console.WriteLine($"warming up ({warmupTime.TotalSeconds:0} s) ...");
var warmup = await e2e.SaturatedAsync(clients, warmupTime);
var siloBefore = siloStatements?.Take();
Console.WriteLine("phase 1/4: end to end, saturated ...");
var e2eSaturated = await e2e.SaturatedAsync(clients, seconds);
var siloDelta = siloBefore is null ? null : siloStatements!.Take().Since(siloBefore);
Console.WriteLine($"phase 2/4: end to end at {rate}/s ...");
var e2eRate = await e2e.AtRateAsync(rate, seconds);
var jobsRun = warmup.Count + e2eSaturated.Count + e2eRate.Count;
var bytesAfter = StoredBytes(storeKind, siloDb, dataPath);
silo.Kill(entireProcessTree: true);
var rawDb = CreateDatabaseMigrated(server, "bench_raw");
var rawStatements = StatementCounter.For(rawDb);
await using var raw = new RawQueueBench(rawDb);
Console.WriteLine($"warming up the raw queue ({warmupTime.TotalSeconds:0} s) ...");
await raw.SaturatedAsync(clients, warmupTime);
var rawBefore = rawStatements.Take();
Console.WriteLine("phase 3/4: raw queue, saturated ...");
var rawSaturated = await raw.SaturatedAsync(clients, seconds);
var rawDelta = rawStatements.Take().Since(rawBefore);
Console.WriteLine($"phase 4/4: raw queue at {rate}/s ...");
var rawRate = await raw.AtRateAsync(rate, seconds);

Console.WriteLine();
Console.WriteLine("| phase | jobs/s | p50 ms | p99 ms | jobs |");
Console.WriteLine("| --- | ---: | ---: | ---: | ---: |");
Row($"end to end (HTTP, billing, grains, queue, GPU host, identity model; silo on {storeKind}), saturated", e2eSaturated);
Row("raw queue (submit, claim, complete, read back; PostgreSQL), saturated", rawSaturated);
Row($"end to end at {rate}/s", e2eRate);
Row($"raw queue at {rate}/s", rawRate);
Console.WriteLine();
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"ratio end-to-end/raw throughput: {e2eSaturated.PerSecond / rawSaturated.PerSecond:0.000}; added latency at {rate}/s (end to end − raw): p50 {e2eRate.P50Ms - rawRate.P50Ms:0.0} ms, p99 {e2eRate.P99Ms - rawRate.P99Ms:0.0} ms"));
if (siloDelta is not null)
{
    Console.WriteLine($"SQL, end to end (saturated phase, whole silo): {siloDelta.PerJob(e2eSaturated.Count)}");
    foreach (var line in siloDelta.Top(e2eSaturated.Count, 40))
    {
        Console.WriteLine(line);
    }
}

if (rawStatements.Available)
{
    Console.WriteLine($"SQL, raw queue (saturated phase): {rawDelta.PerJob(rawSaturated.Count)}");
}

Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"storage per job ({jobsRun} jobs, 64-byte inputs): database {(bytesAfter.Database - bytesBefore.Database) / (double)jobsRun:0} B, blobs {(bytesAfter.Blobs - bytesBefore.Blobs) / (double)jobsRun:0} B, total {(bytesAfter.Database + bytesAfter.Blobs - bytesBefore.Database - bytesBefore.Blobs) / (double)jobsRun:0} B"));

if (e2e.Failures > 0 || e2eSaturated.Count == 0 || e2eRate.Count == 0 || rawSaturated.Count == 0 || (siloDelta is not null && siloDelta.Statements == 0))
{
    Console.WriteLine($"FAILED: {e2e.Failures} jobs did not succeed; jobs measured: end to end {e2eSaturated.Count} + {e2eRate.Count}, raw {rawSaturated.Count}");
    return 1;
}

return 0;

/// <summary>What the stores take on disk: PostgreSQL's database size (tables, indexes, TOAST,
/// free space in pages), or the SQLite files; and the blob folder — both counted in allocated
/// file-system blocks (du), so a 64-byte object counts as the 4 KB it occupies.</summary>
static (long Database, long Blobs) StoredBytes(string storeKind, string database, string dataPath)
{
    long databaseBytes = 0;
    if (storeKind == "postgres")
    {
        using var dataSource = NpgsqlDataSource.Create(database);
        using var cmd = dataSource.CreateCommand("SELECT pg_database_size(current_database())");
        databaseBytes = (long)cmd.ExecuteScalar()!;
    }
    else
    {
        databaseBytes = Directory.EnumerateFiles(dataPath, "*.db*").Sum(DiskBytes);
    }

    var blobs = Path.Combine(dataPath, "blobs");
    var blobBytes = Directory.Exists(blobs) ? DiskBytes(blobs) : 0;
    return (databaseBytes, blobBytes);
}

static long DiskBytes(string path)
{
    var du = Process.Start(new ProcessStartInfo("du", ["-s", "-B1", path]) { RedirectStandardOutput = true, UseShellExecute = false })!;
    var text = du.StandardOutput.ReadToEnd();
    du.WaitForExit();
    return long.Parse(text.Split('\t', 2)[0], CultureInfo.InvariantCulture);
}

static void Row(string name, Percentiles p) =>
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {p.PerSecond:0.0} | {p.P50Ms:0.0} | {p.P99Ms:0.0} | {p.Count} |"));

static string FindRepo()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        if (File.Exists(Path.Combine(dir.FullName, "Actors.sln")))
        {
            return dir.FullName;
        }
    }

    throw new DirectoryNotFoundException("Actors.sln not found");
}

static string CreateDatabase(string server, string prefix) => BenchDatabase.Create(server, prefix);

static string CreateDatabaseMigrated(string server, string prefix)
{
    var cs = CreateDatabase(server, prefix);
    using var dataSource = NpgsqlDataSource.Create(cs);
    Actors.Storage.Schema.SchemaMigrator.PostgresAsync(dataSource).GetAwaiter().GetResult();
    return cs;
}

static Process StartSilo(string repo, string storeKind, string database, string? redis, string dataPath, string adminKey, out string url)
{
    var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
    listener.Start();
    var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    listener.Stop();
    url = $"http://127.0.0.1:{port}";
    var start = new ProcessStartInfo("dotnet")
    {
        ArgumentList = { Path.Combine(repo, "Silo", "bin", "Release", "net10.0", "Actors.Silo.dll"), "--urls", url, "--contentRoot", repo },
        UseShellExecute = false,
    };
    start.Environment["Cluster__Store"] = storeKind;
    if (storeKind == "postgres")
    {
        start.Environment["Cluster__ConnectionString"] = database;
    }

    if (redis is not null)
    {
        start.Environment["Cluster__Redis"] = redis;
        start.Environment["Cluster__ClusterId"] = "bench-" + Guid.NewGuid().ToString("N")[..8];
    }

    start.Environment["Cluster__DataPath"] = dataPath;
    start.Environment["Api__AdminKey"] = adminKey;
    start.Environment["Inference__Device"] = "cpu";
    start.Environment["Logging__LogLevel__Default"] = "Warning";
    start.Environment["Billing__Plans__enterprise__RateLimit__Jobs"] = "100000000"; // measure the cluster, not the plan's limit
    return Process.Start(start)!;
}

static async Task WaitReadyAsync(HttpClient http, Process silo)
{
    var clock = Stopwatch.StartNew();
    while (clock.Elapsed < TimeSpan.FromSeconds(90))
    {
        if (silo.HasExited)
        {
            throw new InvalidOperationException($"the silo exited ({silo.ExitCode})");
        }

        try
        {
            if ((await http.GetAsync("/health/ready")).IsSuccessStatusCode)
            {
                return;
            }
        }
        catch (HttpRequestException)
        {
        }

        await Task.Delay(200);
    }

    throw new TimeoutException("the silo was not ready in 90 s");
}

static async Task<string> CreateTenantAsync(HttpClient http, string adminKey)
{
    using var request = new HttpRequestMessage(HttpMethod.Post, "/admin/tenants") { Content = JsonContent.Create(new { name = "bench", tier = "enterprise" }) };
    request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", adminKey);
    using var response = await http.SendAsync(request);
    response.EnsureSuccessStatusCode();
    return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("apiKey").GetString()!;
}
