using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Actors.Inference;
using Actors.Inference.Bench;
using Actors.Inference.Models;
using Actors.Inference.Tensors;

// Inference benchmark: the same model, batch and device measured four ways in one run —
// raw C++ over libtorch (the baseline), the C# engine called directly, a static-batch sweep,
// and the dynamic batcher under many concurrent callers and under low load — then ratios.
BenchSettings settings;
try
{
    settings = BenchSettings.Parse(args);
}
catch (Exception e) when (e is ArgumentException or FormatException)
{
    Console.Error.WriteLine($"bench: {e.Message}");
    return 2;
}

if (settings.WriteVolume is { } volumePath)
{
    return VolumeBench.Write(volumePath, settings.SmallVolume);
}

if (settings.BatchingPolicy)
{
    return await BatchingPolicyBench.RunAsync(settings);
}

if (settings.Compare)
{
    return await CompareBench.RunAsync(settings, settings.ModelsPath ?? FindModels());
}

var options = new InferenceOptions
{
    Device = settings.Device,
    Threads = settings.Threads,
    ModelsPath = settings.ModelsPath ?? FindModels(),
    MaxQueuedPerModel = Math.Max(1024, settings.Concurrency * 2),
    GpuConcurrentBatches = settings.ConcurrentBatches,
};
await using var engine = InferenceEngine.Start(options, only: [settings.Model]);
var model = engine.Get(settings.Model);
if (settings.PreprocessDir is { } preprocessDir)
{
    return Preprocessing.Run(model.Manifest, preprocessDir, settings.Seconds / 4);
}

if (settings.VolumeFile is { } volumeFile)
{
    return await VolumeBench.RunAsync(engine, volumeFile, settings);
}

var maxBatch = model.Manifest.Batch.MaxBatchSize;
var batch = Math.Min(settings.Batch, maxBatch);
Console.WriteLine($"model {model.Name} {model.Manifest.Version} on {engine.Device}; libtorch {TorchRuntime.TorchVersion}, " +
                  $"bridge {TorchRuntime.BridgeVersion}, {TorchRuntime.Threads} thread(s); batch {batch}, max batch {maxBatch}, " +
                  $"max delay {model.Manifest.Batch.MaxQueueDelayMs} ms, {model.Batcher.Options.MaxConcurrentBatches} batch(es) in flight");

var raw = new List<LatencyStats>();
var direct = new List<LatencyStats>();
for (var round = 1; round <= 2; round++)
{
    Console.WriteLine($"[{round}/2] raw C++ libtorch, batch {batch}, {settings.Iterations} iterations ...");
    raw.Add(RunRaw(batch));
    Console.WriteLine($"[{round}/2] C# engine direct, batch {batch}, {settings.Iterations} iterations ...");
    direct.Add(MeasureDirect(batch, settings.Iterations));
}

var bestRaw = raw.MaxBy(r => r.ItemsPerSecond)!;
var bestDirect = direct.MaxBy(r => r.ItemsPerSecond)!;

Console.WriteLine("static batch sweep (C# direct) ...");
var sweep = new List<LatencyStats>();
for (var b = 1; b <= maxBatch; b *= 2)
{
    sweep.Add(MeasureDirect(b, Math.Max(10, settings.Iterations * batch / b / 2)));
    Console.WriteLine($"  batch {b,3}: {sweep[^1].ItemsPerSecond,10:F1} items/s");
}

var bestStatic = sweep.MaxBy(s => s.ItemsPerSecond)!;
Console.WriteLine($"batcher at saturation: {settings.Concurrency} concurrent callers for {settings.Seconds:F0} s ...");
var saturated = await MeasureBatcher(settings.Concurrency, TimeSpan.FromSeconds(settings.Seconds));
Console.WriteLine("batcher at low load: one caller, one item at a time ...");
var single = model.Samples ? MeasureSampleDirect() : MeasureDirect(1, Math.Max(20, settings.Iterations));
var lowLoad = await MeasureBatcher(1, TimeSpan.FromSeconds(Math.Max(2, settings.Seconds / 3)));

var rows = new[] { bestRaw, bestDirect, bestStatic with { Name = "C# direct, best static batch" }, saturated, single, lowLoad };
Console.WriteLine();
Console.WriteLine($"{"phase",-36} {"batch",5} {"items/s",10} {"p50 ms",9} {"p99 ms",9}");
foreach (var r in rows)
{
    Console.WriteLine($"{r.Name,-36} {r.Batch,5} {r.ItemsPerSecond,10:F1} {r.P50Ms,9:F3} {r.P99Ms,9:F3}");
}

var directRatio = bestDirect.ItemsPerSecond / bestRaw.ItemsPerSecond;
var batcherRatio = saturated.ItemsPerSecond / bestStatic.ItemsPerSecond;
var added = lowLoad.P50Ms - single.P50Ms;
Console.WriteLine();
Console.WriteLine($"C# direct / raw C++ (batch {batch}):          {directRatio:F3}  (target >= 0.97)");
Console.WriteLine($"batcher saturated / best static batch:      {batcherRatio:F3}  (target >= 0.90)");
Console.WriteLine($"batcher low-load added p50 latency:        {added,6:F2} ms (max delay {model.Manifest.Batch.MaxQueueDelayMs} ms)");

var summary = new
{
    model = model.Name, device = engine.Device, torch = TorchRuntime.TorchVersion, threads = TorchRuntime.Threads, batch,
    phases = rows, directOverRaw = directRatio, batcherOverBestStatic = batcherRatio, lowLoadAddedP50Ms = added,
    maxDelayMs = model.Manifest.Batch.MaxQueueDelayMs,
};
var json = JsonSerializer.Serialize(summary, JsonSerializerOptions.Web);
Console.WriteLine(json);
if (settings.JsonFile is { } file)
{
    await File.WriteAllTextAsync(file, json);
}

return 0;

Tensor[] Inputs(int rows) => BenchInputs.Forward(model, rows);

Tensor[] SampleInputs(int rows) => BenchInputs.Sampling(model, rows, settings.Steps);

LatencyStats MeasureDirect(int rows, int iterations)
{
    var inputs = Inputs(rows);
    // Warm up for a second, not a few calls: tiered JIT recompiles hot paths after ~30
    // calls and 100 ms, and that must not land inside the measurement.
    for (var warm = Stopwatch.StartNew(); warm.Elapsed < TimeSpan.FromSeconds(1);)
    {
        Recycle(model.ForwardDirect(inputs));
    }

    var latencies = new List<double>(iterations);
    var total = Stopwatch.StartNew();
    for (var i = 0; i < iterations; i++)
    {
        var start = Stopwatch.GetTimestamp();
        Recycle(model.ForwardDirect(inputs));
        latencies.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
    }

    return LatencyStats.From("C# engine direct", rows, (long)rows * iterations, total.Elapsed, latencies);
}

// Items are forwards of one row: a sampling run of a ddim model counts its steps.
// One sampling run of one image at a time, on the caller's thread; items are its steps.
LatencyStats MeasureSampleDirect()
{
    var inputs = SampleInputs(1);
    for (var warm = Stopwatch.StartNew(); warm.Elapsed < TimeSpan.FromSeconds(1);)
    {
        Recycle(model.SampleDirect(inputs));
    }

    var latencies = new List<double>();
    var total = Stopwatch.StartNew();
    for (var i = 0; i < Math.Max(5, settings.Iterations / settings.Steps); i++)
    {
        var start = Stopwatch.GetTimestamp();
        Recycle(model.SampleDirect(inputs));
        latencies.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
    }

    return LatencyStats.From($"C# sampling run direct, {settings.Steps} steps", 1, (long)latencies.Count * settings.Steps, total.Elapsed, latencies);
}

async Task<LatencyStats> MeasureBatcher(int callers, TimeSpan duration)
{
    var inputs = model.Samples ? SampleInputs(1) : Inputs(1);
    var perCall = model.Samples ? settings.Steps : 1;
    for (var warm = Stopwatch.StartNew(); warm.Elapsed < TimeSpan.FromSeconds(1);)
    {
        Recycle(await model.ForwardAsync(inputs));
    }

    var latencies = new List<double>();
    var items = 0L;
    var total = Stopwatch.StartNew();
    var workers = Enumerable.Range(0, callers).Select(_ => Task.Run(async () =>
    {
        var mine = new List<double>();
        while (total.Elapsed < duration)
        {
            var start = Stopwatch.GetTimestamp();
            Recycle(await model.ForwardAsync(inputs));
            mine.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }

        lock (latencies)
        {
            latencies.AddRange(mine);
            items += mine.Count * perCall;
        }
    })).ToArray();
    await Task.WhenAll(workers);
    var name = (callers == 1 ? "batcher, 1 caller (low load)" : $"batcher, {callers} callers (saturated)") +
               (model.Samples ? $", {settings.Steps}-step runs" : "");
    return LatencyStats.From(name, maxBatch, items, total.Elapsed, latencies);
}

LatencyStats RunRaw(int rows)
{
    var path = settings.RawBench ?? Path.Combine(Path.GetDirectoryName(TorchRuntime.BridgePath)!, "torchbridge_rawbench");
    var specs = model.Manifest.Inputs.Select(s => s.Dtype == "int64"
        ? string.Join('x', s.Shape.Skip(1)) + ":i64:" + BenchInputs.IntBound(model, s.Name).ToString(CultureInfo.InvariantCulture)
        : string.Join('x', s.Shape.Skip(1)) + ":f32");
    var psi = new ProcessStartInfo(path) { RedirectStandardOutput = true, RedirectStandardError = true };
    foreach (var a in new[] { model.Definition.ModelFile, engine.Device, rows.ToString(CultureInfo.InvariantCulture),
                 settings.Iterations.ToString(CultureInfo.InvariantCulture), "10", TorchRuntime.Threads.ToString(CultureInfo.InvariantCulture) }.Concat(specs))
    {
        psi.ArgumentList.Add(a);
    }

    using var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {path}");
    var stdout = process.StandardOutput.ReadToEnd();
    var stderr = process.StandardError.ReadToEnd();
    process.WaitForExit();
    if (process.ExitCode != 0)
    {
        throw new InvalidOperationException($"{path} failed ({process.ExitCode}): {stderr}");
    }

    using var doc = JsonDocument.Parse(stdout);
    var root = doc.RootElement;
    return new LatencyStats("raw C++ libtorch", rows, root.GetProperty("items_per_s").GetDouble(),
        root.GetProperty("p50_ms").GetDouble(), root.GetProperty("p99_ms").GetDouble());
}

// A consumer of the engine hands outputs back when done with them (Tensor.Recycle).
static void Recycle(Tensor[] outputs) => BenchInputs.Recycle(outputs);

static string FindModels()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        if (Directory.Exists(Path.Combine(dir.FullName, "models", "segmentation")))
        {
            return Path.Combine(dir.FullName, "models");
        }
    }

    return "models";
}
