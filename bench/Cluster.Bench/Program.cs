using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Actors.Cluster.Bench;
using Npgsql;

// End-to-end jobs/s and added latency through HTTP, beside the raw queue on the same PostgreSQL.
// Usage: dotnet Actors.Cluster.Bench.dll --pg "<connection string>" [--store postgres|sqlite] [--redis host:port]
//        [--seconds 10] [--clients 32] [--rate 100] [--tenants 1]
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
var bytesBefore = StoredBytes(storeKind, siloDb, dataPath);

Console.WriteLine("warming up (3 s) ...");
var warmup = await e2e.SaturatedAsync(clients, TimeSpan.FromSeconds(3));
Console.WriteLine("phase 1/4: end to end, saturated ...");
var e2eSaturated = await e2e.SaturatedAsync(clients, seconds);
Console.WriteLine($"phase 2/4: end to end at {rate}/s ...");
var e2eRate = await e2e.AtRateAsync(rate, seconds);
var jobsRun = warmup.Count + e2eSaturated.Count + e2eRate.Count;
var bytesAfter = StoredBytes(storeKind, siloDb, dataPath);
silo.Kill(entireProcessTree: true);
Console.WriteLine("warming up the raw queue (3 s) ...");
await RawQueueBench.AtRateAsync(CreateDatabaseMigrated(server, "bench_raw0"), rate, TimeSpan.FromSeconds(3));
Console.WriteLine("phase 3/4: raw queue, saturated ...");
var rawSaturated = await RawQueueBench.SaturatedAsync(CreateDatabaseMigrated(server, "bench_raw1"), clients, seconds);
Console.WriteLine($"phase 4/4: raw queue at {rate}/s ...");
var rawRate = await RawQueueBench.AtRateAsync(CreateDatabaseMigrated(server, "bench_raw2"), rate, seconds);

Console.WriteLine();
Console.WriteLine("| phase | jobs/s | p50 ms | p99 ms | jobs |");
Console.WriteLine("| --- | ---: | ---: | ---: | ---: |");
Row("end to end (HTTP, grains, queue, GPU host, identity model), saturated", e2eSaturated);
Row("raw queue (enqueue/claim/complete), saturated", rawSaturated);
Row($"end to end at {rate}/s", e2eRate);
Row($"raw queue at {rate}/s", rawRate);
Console.WriteLine();
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"ratio end-to-end/raw throughput: {e2eSaturated.PerSecond / rawSaturated.PerSecond:0.000}; added latency at {rate}/s (end to end − raw): p50 {e2eRate.P50Ms - rawRate.P50Ms:0.0} ms, p99 {e2eRate.P99Ms - rawRate.P99Ms:0.0} ms"));

Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"storage per job ({jobsRun} jobs, 64-byte inputs): database {(bytesAfter.Database - bytesBefore.Database) / (double)jobsRun:0} B, blobs {(bytesAfter.Blobs - bytesBefore.Blobs) / (double)jobsRun:0} B, total {(bytesAfter.Database + bytesAfter.Blobs - bytesBefore.Database - bytesBefore.Blobs) / (double)jobsRun:0} B"));

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
        databaseBytes = Directory.EnumerateFiles(dataPath, "*.db*").Sum(f => new FileInfo(f).Length);
    }

    var blobs = Path.Combine(dataPath, "blobs");
    var blobBytes = Directory.Exists(blobs) ? Directory.EnumerateFiles(blobs, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length) : 0;
    return (databaseBytes, blobBytes);
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
