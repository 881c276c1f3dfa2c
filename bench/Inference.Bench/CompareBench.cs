using System.Diagnostics;
using System.Text.Json;
using Actors.Inference.Errors;
using Actors.Inference.Models;

namespace Actors.Inference.Bench;

/// <summary>Our side of bench/compare-bench.sh: for each model and batch size, the engine called
/// directly (one batch per call: host → device, forward or a whole DDIM run, device → host) and
/// through the batcher (as many concurrent one-image callers as the batch size). Writes the rows
/// bench/torch_baseline.py's table reads.</summary>
internal static class CompareBench
{
    public static async Task<int> RunAsync(BenchSettings settings, string modelsPath)
    {
        var names = settings.CompareModels.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        TorchRuntime.Configure(new InferenceOptions { Device = settings.Device, Threads = settings.Threads, ModelsPath = modelsPath });
        var device = TorchRuntime.ResolveDevice(settings.Device);
        Console.WriteLine($"ours on {device}: libtorch {TorchRuntime.TorchVersion}, bridge {TorchRuntime.BridgeVersion} [{TorchRuntime.BridgeFeatures}], {TorchRuntime.Threads} thread(s)");
        var rows = new List<Dictionary<string, object?>>();
        var definitions = ModelRegistry.Scan(modelsPath).ToDictionary(d => d.Name);
        var notLoaded = new Dictionary<string, string>();
        var failed = new Dictionary<string, string>();

        // Rewritten after every model, so a run cut short (one device run, a timeout) keeps what it measured.
        async Task SaveAsync()
        {
            if (settings.JsonFile is { } file)
            {
                var json = JsonSerializer.Serialize(new
                {
                    torch = TorchRuntime.TorchVersion, bridge = TorchRuntime.BridgeVersion, features = TorchRuntime.BridgeFeatures,
                    threads = TorchRuntime.Threads, device, rows, not_loaded = notLoaded, failed,
                }, JsonSerializerOptions.Web);
                // Whole or not at all: a run killed while writing keeps the previous version.
                await File.WriteAllTextAsync(file + ".part", json);
                File.Move(file + ".part", file, overwrite: true);
            }
        }

        await SaveAsync();
        foreach (var name in names)
        {
            if (!definitions.TryGetValue(name, out var definition))
            {
                notLoaded[name] = $"no model '{name}' under {modelsPath}";
                continue;
            }

            var loaded = Load(definition, device, settings, notLoaded);
            if (loaded is null)
            {
                await SaveAsync();
                continue;
            }

            await using var model = loaded;
            var batches = (name == "diffusion" ? settings.CompareDiffusionBatches : settings.CompareBatches)
                .Split(',', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray();
            try
            {
                foreach (var batch in batches)
                {
                    var direct = Direct(model, batch, settings);
                    rows.Add(Row(model, "ours-direct", batch, direct, settings));
                    var batched = await Batcher(model, batch, settings);
                    rows.Add(Row(model, "ours-batcher", batch, batched, settings));
                    await SaveAsync();
                }
            }
            catch (InferenceException e)
            {
                // A model that fails while measured (a graph replay, out of memory): reported, the others still run.
                Console.WriteLine($"{name}: failed: {e.Message}");
                failed[name] = e.Message;
            }

            await SaveAsync();
        }

        return 0;
    }

    /// <summary>Loads with the requested settings; where one is refused, tries again without freezing,
    /// then without CUDA graphs too, so a model still gets its rows (each attempt's refusal is kept).</summary>
    private static LoadedModel? Load(ModelDefinition definition, string device, BenchSettings settings, Dictionary<string, string> notLoaded)
    {
        var attempts = new List<BenchSettings> { settings };
        if (settings.Freeze)
        {
            attempts.Add(settings with { Freeze = false });
        }

        if (settings.CudaGraphs)
        {
            attempts.Add(settings with { Freeze = false, CudaGraphs = false });
        }

        foreach (var attempt in attempts)
        {
            try
            {
                return LoadedModel.Load(Override(definition, device, attempt), device, 4096, gpuConcurrentBatches: attempt.ConcurrentBatches);
            }
            catch (InferenceException e)
            {
                var what = $"{definition.Name}{(attempt.Freeze ? " frozen" : "")}{(attempt.CudaGraphs ? " with CUDA graphs" : "")}";
                Console.WriteLine($"{what}: not loaded: {e.Message}");
                notLoaded[what] = e.Message;
            }
        }

        return null;
    }

    /// <summary>--precision / --channels-last / --cuda-graphs / --freeze: the manifest's runtime for this device, replaced.</summary>
    private static ModelDefinition Override(ModelDefinition definition, string device, BenchSettings settings)
    {
        if (settings.Precision is null && !settings.ChannelsLast && !settings.CudaGraphs && !settings.Freeze)
        {
            return definition;
        }

        var manifest = definition.Manifest;
        var current = manifest.RuntimeFor(device);
        var runtime = current with
        {
            Precision = settings.Precision ?? current.Precision, ChannelsLast = settings.ChannelsLast || current.ChannelsLast,
            CudaGraphs = settings.CudaGraphs || current.CudaGraphs, Freeze = settings.Freeze || current.Freeze,
        };
        var all = manifest.Runtime.ToDictionary(kv => kv.Key, kv => kv.Value);
        all[DeviceRuntime.KindOf(device)] = runtime;
        return definition with { Manifest = manifest with { Runtime = all } };
    }

    private static Dictionary<string, object?> Row(LoadedModel model, string runtime, int batch, LatencyStats stats, BenchSettings settings)
    {
        Console.WriteLine($"{model.Name,-15} {runtime,-13} {model.Precision.Name(),-14} batch {batch,3}: {stats.ItemsPerSecond,9:F1} img/s  " +
                          $"p50 {stats.P50Ms,8:F2} ms  p99 {stats.P99Ms,8:F2} ms");
        return new Dictionary<string, object?>
        {
            ["model"] = model.Name, ["batch"] = batch, ["runtime"] = runtime, ["precision"] = model.Precision.Name(),
            ["channels_last"] = model.ChannelsLast, ["cuda_graphs"] = model.CudaGraphs, ["frozen"] = model.Frozen, ["graphs"] = model.GraphCount,
            ["graph_failure"] = model.GraphFailure, ["max_batch"] = model.Batcher.Options.MaxBatchSize,
            ["images_per_s"] = stats.ItemsPerSecond, ["p50_ms"] = stats.P50Ms, ["p99_ms"] = stats.P99Ms,
            ["steps"] = model.Samples ? settings.Steps : null,
        };
    }

    /// <summary>One batch per call on this thread; images/s = batch / mean call time.</summary>
    private static LatencyStats Direct(LoadedModel model, int batch, BenchSettings settings)
    {
        var inputs = BenchInputs.ForBatcher(model, batch, settings.Steps);
        Func<Tensors.Tensor[]> call = model.Samples ? () => model.SampleDirect(inputs) : () => model.ForwardDirect(inputs);
        for (var warm = Stopwatch.StartNew(); warm.Elapsed < TimeSpan.FromSeconds(1);)
        {
            BenchInputs.Recycle(call());
        }

        var latencies = new List<double>();
        var measured = TimeSpan.Zero;
        for (var total = Stopwatch.StartNew(); total.Elapsed < TimeSpan.FromSeconds(settings.Seconds) || latencies.Count < 5;)
        {
            var start = Stopwatch.GetTimestamp();
            BenchInputs.Recycle(call());
            var took = Stopwatch.GetElapsedTime(start);
            measured += took;
            latencies.Add(took.TotalMilliseconds);
        }

        return LatencyStats.From("direct", batch, (long)batch * latencies.Count, measured, latencies);
    }

    /// <summary><paramref name="batch"/> callers, each one image at a time, closed loop.</summary>
    private static async Task<LatencyStats> Batcher(LoadedModel model, int batch, BenchSettings settings)
    {
        var one = BenchInputs.ForBatcher(model, 1, settings.Steps);
        for (var warm = Stopwatch.StartNew(); warm.Elapsed < TimeSpan.FromSeconds(1);)
        {
            await Task.WhenAll(Enumerable.Range(0, batch).Select(async _ => BenchInputs.Recycle(await model.ForwardAsync(one))));
        }

        var latencies = new List<double>();
        var duration = TimeSpan.FromSeconds(settings.Seconds);
        var total = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, batch).Select(_ => Task.Run(async () =>
        {
            var mine = new List<double>();
            while (total.Elapsed < duration || mine.Count == 0)
            {
                var start = Stopwatch.GetTimestamp();
                BenchInputs.Recycle(await model.ForwardAsync(one));
                mine.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }

            lock (latencies)
            {
                latencies.AddRange(mine);
            }
        })));
        return LatencyStats.From("batcher", batch, latencies.Count, total.Elapsed, latencies);
    }
}
