using System.Diagnostics;
using System.Globalization;
using Actors.Billing.Bench;
using Actors.Cluster.Bench;
using Actors.Grains;
using Actors.Grains.Billing;
using Actors.Grains.Jobs;
using Actors.Grains.Tenants;
using Actors.Storage;
using Actors.Storage.Blobs;
using Actors.Storage.Cache;
using Actors.Storage.Queue;
using Actors.Grains.Hosting;
using Actors.Storage.OrleansProviders;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Actors.Storage.Outboxes;
using Actors.Storage.ReadModels;
using Actors.Storage.Billing;

// Admission throughput: a job's billing life (TenantGrain.AdmitAsync, then FinishJobsAsync with the
// job's outcome, which settles it) beside the cheapest writing turn on the same store, for
// one hot tenant and for 1,000 tenants. Usage:
//   dotnet Actors.Billing.Bench.dll [--pg "<connection string>"] [--seconds 5] [--clients 32]
var options = args.Select((a, i) => (a, i)).Where(x => x.a.StartsWith("--", StringComparison.Ordinal))
    .ToDictionary(x => x.a[2..], x => x.i + 1 < args.Length ? args[x.i + 1] : "");
var seconds = TimeSpan.FromSeconds(double.Parse(options.GetValueOrDefault("seconds", "5"), CultureInfo.InvariantCulture));
var clients = int.Parse(options.GetValueOrDefault("clients", "32"), CultureInfo.InvariantCulture);
var pg = options.GetValueOrDefault("pg") ?? Environment.GetEnvironmentVariable("ACTORS_BENCH_PG");

Console.WriteLine($"billing bench: {Environment.ProcessorCount} cores, {seconds.TotalSeconds:0} s per phase, {clients} concurrent callers");
var rows = new List<(string Store, string Phase, Percentiles P)>();
var stores = new List<(string Name, Func<(ClusterStore Store, string? Postgres)> Open)>
{
    ("sqlite", () => (ClusterStore.Sqlite(Path.Combine(Directory.CreateTempSubdirectory("billing-bench-").FullName, "bench.db"), TimeProvider.System), null)),
};
if (pg is { Length: > 0 })
{
    stores.Insert(0, ("postgres", () =>
    {
        var database = CreateDatabase(pg);
        return (ClusterStore.Postgres(database, TimeProvider.System), database);
    }));
}

foreach (var (name, open) in stores)
{
    var (store, postgres) = open();
    await store.MigrateAsync();
    using var host = await SiloAsync(store, postgres);
    var silo = host.Services.GetRequiredService<IGrainFactory>();
    const int Tenants = 1000;
    Console.WriteLine($"[{name}] creating {Tenants} tenants ...");
    await Parallel.ForEachAsync(Enumerable.Range(0, Tenants), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, _) =>
    {
        var tenant = silo.GetGrain<ITenantGrain>($"t{i}");
        await tenant.CreateAsync($"tenant {i}", Tier.Pro);
        await tenant.SetPlanAsync("bench");
    });

    if (name == "sqlite")
    {
        // Orleans' own cost: a grain call (in this silo, no I/O) against the same method called directly.
        Console.WriteLine($"[{name}] grain call vs direct call: warming up (1 s), then {seconds.TotalSeconds:0} s each ...");
        await RunAsync(n => silo.GetGrain<IEchoGrain>($"e{n % 64}").AddAsync(n, 1), clients, TimeSpan.FromSeconds(1));
        var direct = await RunAsync(n => Echo.AddAsync(n, 1), clients, seconds);
        var call = await RunAsync(n => silo.GetGrain<IEchoGrain>($"e{n % 64}").AddAsync(n, 1), clients, seconds);
        rows.Add(("orleans", "direct method call", direct));
        rows.Add(("orleans", "grain call (local silo)", call));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  direct {direct.PerSecond:0} /s, grain call {call.PerSecond:0} /s (p50 {call.P50Ms:0.000} ms): ratio {call.PerSecond / direct.PerSecond:0.0000}"));
    }

    var phases = new (string Phase, Func<int, Task> Op)[]
    {
        ("raw turn, one grain", _ => silo.GetGrain<ICounterGrain>("hot").IncrementAsync()),
        ("admit + settle, one hot tenant", n => AdmitAndFinishAsync(silo, "t0", n)),
        ("raw turn, 1,000 grains", n => silo.GetGrain<ICounterGrain>($"c{n % Tenants}").IncrementAsync()),
        ("admit + settle, 1,000 tenants", n => AdmitAndFinishAsync(silo, $"t{n % Tenants}", n)),
    };
    foreach (var (phase, op) in phases)
    {
        Console.WriteLine($"[{name}] {phase}: warming up (1 s), then {seconds.TotalSeconds:0} s ...");
        await RunAsync(op, clients, TimeSpan.FromSeconds(1));
        var result = await RunAsync(op, clients, seconds);
        rows.Add((name, phase, result));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {result.PerSecond:0} /s, p50 {result.P50Ms:0.0} ms, p99 {result.P99Ms:0.0} ms"));
    }

    var sums = await new CreditLedger(store.Sql).SumAsync("t0");
    var usage = await silo.GetGrain<ITenantGrain>("t0").GetUsageAsync();
    Console.WriteLine($"[{name}] hot tenant after the run: ledger {sums.Rows} rows, sums = balances: {sums.Included == usage.IncludedCredits && sums.Purchased == usage.PurchasedCredits}, open reservations {usage.Reservations}");
    await host.StopAsync();
    await store.DisposeAsync();
}

Console.WriteLine();
Console.WriteLine("| store | phase | per s | p50 ms | p99 ms | ratio to baseline (raw grain write; direct call for orleans) |");
Console.WriteLine("| --- | --- | ---: | ---: | ---: | ---: |");
foreach (var (store, phase, p) in rows)
{
    var raw = store == "orleans"
        ? rows.First(r => r.Store == store && r.Phase == "direct method call").P
        : rows.First(r => r.Store == store && r.Phase.StartsWith("raw", StringComparison.Ordinal) && r.Phase.EndsWith(phase.Contains("1,000", StringComparison.Ordinal) ? "1,000 grains" : "one grain", StringComparison.Ordinal)).P;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {store} | {phase} | {p.PerSecond:0} | {p.P50Ms:0.0} | {p.P99Ms:0.0} | {p.PerSecond / raw.PerSecond:0.00} |"));
}

static async Task AdmitAndFinishAsync(IGrainFactory silo, string tenantId, int n)
{
    var tenant = silo.GetGrain<ITenantGrain>(tenantId);
    var jobId = $"bench-{Guid.NewGuid():N}";
    var admission = await tenant.AdmitAsync(jobId, "identity", mayRepeat: false);
    if (!admission.Admitted)
    {
        throw new InvalidOperationException($"refused: {admission.Code} {admission.Detail}");
    }

    // The job's grain is not involved: its outcome, as a job grain reports it after its commit.
    await tenant.FinishJobsAsync([new JobSnapshot
    {
        JobId = jobId, Status = JobStatus.Succeeded, Attempts = 1,
        Request = new JobRequest { TenantId = tenantId, Model = "identity", ModelVersion = "1.0.0", Billed = true },
        Result = new JobResult(null, null, false, 1),
    }]);
}

static async Task<Percentiles> RunAsync(Func<int, Task> op, int clients, TimeSpan duration)
{
    var latencies = new List<double>[clients];
    var counter = 0;
    var clock = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, clients).Select(async c =>
    {
        latencies[c] = [];
        while (clock.Elapsed < duration)
        {
            var start = Stopwatch.GetTimestamp();
            await op(Interlocked.Increment(ref counter));
            latencies[c].Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }
    }));
    return Percentiles.Of(latencies.SelectMany(l => l).ToList(), clock.Elapsed);
}

static async Task<IHost> SiloAsync(ClusterStore store, string? postgres)
{
    var billing = new BillingOptions { ReservationGraceSeconds = 0 };
    billing.Plans["bench"] = new Plan { Name = "Bench", Tier = Tier.Pro, IncludedCredits = 1_000_000_000, OverageUsdPerCredit = 0m };
    var builder = Host.CreateApplicationBuilder();
    builder.Logging.ClearProviders();
    builder.Services
        .AddSingleton(TimeProvider.System)
        .AddSingleton(store.Queue).AddSingleton(store.Sql)
        .AddSingleton(billing).AddSingleton<JobSettlement>()
        .AddActorsStores() // every table the grains write (the ledger, the job index, the erasure log, …), as the silo registers them
        .AddSingleton<ResultCache>()
        .AddSingleton<QueueSignal>().AddSingleton<JobServices>()
        .AddSingleton(sp => new BlobStore(new FileObjectStore(Path.Combine(Path.GetTempPath(), "billing-bench-blobs")), store.Sql, TimeProvider.System));
    builder.UseOrleans(silo =>
    {
        silo.UseLocalhostClustering();
        if (postgres is not null)
        {
            silo.UsePostgresStore(postgres);
        }
        else
        {
            silo.UseSqliteStore(store.SqlitePath!, "dev");
        }

        silo.AddActorsGrains();
    });
    var host = builder.Build();
    await host.StartAsync();
    return host;
}

static string CreateDatabase(string server) => BenchDatabase.Create(server, "bench_billing");
