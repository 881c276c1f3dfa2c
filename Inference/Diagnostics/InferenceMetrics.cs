using System.Diagnostics.Metrics;
using Actors.Inference.Native;

namespace Actors.Inference.Diagnostics;

/// <summary>The engine's own instruments (meter "Actors.Inference"): how full the dynamic
/// batcher's batches are and how long each batch's forward takes.</summary>
public static class InferenceMetrics
{
    public const string MeterName = "Actors.Inference";

    public static readonly Meter Meter = new(MeterName, "1.0");

    public static readonly Histogram<int> BatchSize = Meter.CreateHistogram<int>("actors.batch.size", "{request}",
        "Requests per batch run by the dynamic batcher, by model", advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64] });

    public static readonly Histogram<double> BatchDuration = Meter.CreateHistogram<double>("actors.batch.duration", "s",
        "Time of one batch's forward pass, by model and outcome");

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<LoadedModel, byte> Graphed = new();

    /// <summary>Per model with <c>runtime.cuda.cudaGraphs</c>: graphs captured, and 1 once a capture
    /// failed (that shape runs eagerly; <see cref="LoadedModel.GraphFailure"/> says why). Absent
    /// for models without graphs.</summary>
    public static readonly ObservableGauge<int> CudaGraphs = Meter.CreateObservableGauge("actors.model.cuda_graphs",
        () => Observe(m => m.GraphCount), "{graph}", "CUDA graphs captured, by model (models with CUDA graphs only)");

    public static readonly ObservableGauge<int> CudaGraphFailed = Meter.CreateObservableGauge("actors.model.cuda_graph_failed",
        () => Observe(m => m.GraphFailure is null ? 0 : 1), null, "1 once a CUDA graph capture of the model failed (that shape runs eagerly)");

    private static int _gpuGauges;

    internal static void TrackGraphs(LoadedModel model) => Graphed.TryAdd(model, 0);

    internal static void UntrackGraphs(LoadedModel model) => Graphed.TryRemove(model, out _);

    private static IEnumerable<Measurement<int>> Observe(Func<LoadedModel, int> read) =>
        Graphed.Keys.Select(model => new Measurement<int>(read(model), new KeyValuePair<string, object?>("model", model.Name)));

    /// <summary>GPU utilisation and memory per device from NVML, where the machine has it. Where it
    /// has not, nothing is registered: the series are absent, not zero. Returns the devices seen.</summary>
    public static int StartGpuGauges()
    {
        if (!Nvml.TryStart())
        {
            return 0;
        }

        var devices = Nvml.DeviceCount();
        if (Interlocked.Exchange(ref _gpuGauges, 1) == 1)
        {
            return devices;
        }

        var names = Enumerable.Range(0, devices).Select(Nvml.Name).ToArray();
        KeyValuePair<string, object?>[] Tags(int i) => [new("gpu", i.ToString(System.Globalization.CultureInfo.InvariantCulture)), new("name", names[i])];
        Meter.CreateObservableGauge("actors.gpu.utilization.ratio", () => Enumerable.Range(0, devices)
            .Select(i => (i, u: Nvml.Utilization(i))).Where(x => x.u is not null).Select(x => new Measurement<double>(x.u!.Value, Tags(x.i))), "1",
            "Share of time the GPU was busy over NVML's last sample period");
        Meter.CreateObservableGauge("actors.gpu.memory.used", () => Enumerable.Range(0, devices)
            .Select(i => (i, m: Nvml.MemoryInfo(i))).Where(x => x.m is not null).Select(x => new Measurement<long>((long)x.m!.Value.Used, Tags(x.i))), "By",
            "GPU memory in use");
        Meter.CreateObservableGauge("actors.gpu.memory.total", () => Enumerable.Range(0, devices)
            .Select(i => (i, m: Nvml.MemoryInfo(i))).Where(x => x.m is not null).Select(x => new Measurement<long>((long)x.m!.Value.Total, Tags(x.i))), "By",
            "GPU memory on the device");
        return devices;
    }
}
