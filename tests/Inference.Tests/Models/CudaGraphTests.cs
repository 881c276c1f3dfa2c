using System.Diagnostics.Metrics;
using System.Text.Json.Nodes;
using Actors.Inference.Diagnostics;
using Actors.Inference.Errors;
using Actors.Inference.Models;
using Actors.Inference.Pipelines;
using Actors.Inference.Tensors;

namespace Actors.Inference.Tests.Models;

/// <summary>runtime.cuda.cudaGraphs: batches padded to a few sizes (powers of two up to 8, then
/// eight per doubling) replay a graph captured at the first batch of their shape; a sampling
/// run replays a one-step graph once per step. On CPU the setting is refused where it is written and by
/// the bridge; on a GPU (INFERENCE_DEVICE=cuda, bench/gpu-run.sh) the replays must give the
/// eager answers.</summary>
public sealed class CudaGraphTests : IDisposable
{
    private readonly string _scratch = Directory.CreateTempSubdirectory("actors-graphs-").FullName;

    private static string Kind => DeviceRuntime.KindOf(TestEnvironment.Device);

    [Fact]
    public void AModuleOnTheCpuRefusesGraphsWhateverTheBridgeWasBuiltWith()
    {
        using var module = TorchModule.Load(Path.Combine(TestEnvironment.ModelsPath, "classification", "model.pt"), "cpu");
        var e = Assert.Throws<DeviceUnavailableException>(() => module.UseCudaGraphs(8));
        Assert.Contains("need a model on a CUDA device; this one is on cpu", e.Message, StringComparison.Ordinal);
        Assert.False(module.CudaGraphs);
        Assert.Equal(0, module.GraphCount);
        Assert.Null(module.GraphFailure);
        Assert.Throws<ArgumentOutOfRangeException>(() => module.UseCudaGraphs(0));

        // The module still runs, eagerly.
        var grey = Tensor.FromFloat32(new float[224 * 224], 1, 1, 224, 224);
        Assert.Equal(3, module.Forward(grey)[0].Floats.Length);
    }

    [Theory]
    [InlineData("classification")]
    [InlineData("segmentation")]
    public async Task EachPaddedBatchShapeIsCapturedOnceAndReplaysTheEagerAnswer(string name)
    {
        var folder = Record(name, new JsonObject { ["cudaGraphs"] = true, ["maxBatchSize"] = 16 });
        if (!TestEnvironment.OnCuda)
        {
            var refused = Assert.Throws<ModelLoadException>(() => ModelRegistry.Read(folder));
            Assert.Contains("runtime.cpu.cudaGraphs needs CUDA; set it under runtime.cuda", refused.Message, StringComparison.Ordinal);
            return;
        }

        await using var graphed = LoadedModel.Load(ModelRegistry.Read(folder), TestEnvironment.Device, 64);
        await using var eager = LoadedModel.Load(ModelRegistry.Read(Record(name, new JsonObject())), TestEnvironment.Device, 64);
        Assert.True(graphed.CudaGraphs);
        Assert.Null(graphed.GraphFailure);
        Assert.InRange(Assert.NotNull(graphed.ReferenceError), 0, 1e-3);

        foreach (var rows in new[] { 1, 3, 4, 8, 3, 1, 12, 9, 11 })
        {
            var input = Batch(graphed.Manifest, rows, seed: rows);
            AssertClose(eager.ForwardDirect([input])[0].Floats, graphed.ForwardDirect([input])[0].Floats, $"{rows} row(s)");
        }

        Assert.Null(graphed.GraphFailure);
        Assert.Equal(5, graphed.GraphCount); // 1, 4 (3 rows padded), 8, 12 (11 rows padded), 10 (9 rows padded)
        Assert.Equal([5], Gauge("actors.model.cuda_graphs", name)); // the eager copy has no series
        Assert.Equal([0], Gauge("actors.model.cuda_graph_failed", name));

        // More rows than the max batch run eagerly, and are still right.
        var big = Batch(graphed.Manifest, 17, seed: 17);
        AssertClose(eager.ForwardDirect([big])[0].Floats, graphed.ForwardDirect([big])[0].Floats, "17 rows");
        Assert.Equal(5, graphed.GraphCount);

        // Through the batcher: concurrent requests, each its own answer.
        var inputs = Enumerable.Range(0, 6).Select(i => Batch(graphed.Manifest, 1, seed: 100 + i)).ToArray();
        var answers = await Task.WhenAll(inputs.Select(i => graphed.ForwardAsync([i])));
        for (var i = 0; i < inputs.Length; i++)
        {
            AssertClose(eager.ForwardDirect([inputs[i]])[0].Floats, answers[i][0].Floats, $"batched request {i}");
        }
    }

    [Fact]
    public async Task SamplingRunsOfEveryStepCountReplayOneStepGraphPerPaddedRows()
    {
        var folder = Record("diffusion", new JsonObject { ["cudaGraphs"] = true, ["maxBatchSize"] = 4 });
        if (!TestEnvironment.OnCuda)
        {
            var refused = Assert.Throws<ModelLoadException>(() => ModelRegistry.Read(folder));
            Assert.Contains("runtime.cpu.cudaGraphs needs CUDA", refused.Message, StringComparison.Ordinal);
            return;
        }

        await using var graphed = LoadedModel.Load(ModelRegistry.Read(folder), TestEnvironment.Device, 64);
        await using var eager = LoadedModel.Load(ModelRegistry.Read(Record("diffusion", new JsonObject())), TestEnvironment.Device, 64);
        var schedule = new DdimSchedule(graphed.Manifest.Postprocess);
        var start = graphed.GraphCount; // the reference check's forward
        // Rows of one call may take different step counts (-1-padded, as the batcher merges them).
        foreach (var counts in new[] { new[] { 10, 10 }, [10, 10], [10, 10, 10], [6, 6], [10, 6, 3], [25] })
        {
            var rows = counts.Length;
            var steps = counts.Max();
            var noise = new GaussianNoise(rows * 100 + counts.Sum()).Next(rows * 3 * 64 * 64);
            var inputs = new[]
            {
                Tensor.FromFloat32(noise, rows, 3, 64, 64),
                Tensor.FromInt64(counts.SelectMany(n => schedule.Row(n).Concat(Enumerable.Repeat(-1L, steps - n))).ToArray(), rows, steps),
                Tensor.FromInt64(Enumerable.Range(0, rows).Select(r => (long)(r % graphed.Manifest.Labels.Count)).ToArray(), rows),
                Tensor.FromFloat32(Enumerable.Repeat(5f, rows).ToArray(), rows),
            };
            AssertClose(eager.SampleDirect(inputs)[0].Floats, graphed.SampleDirect(inputs)[0].Floats, $"steps {string.Join(", ", counts)}");
        }

        Assert.Null(graphed.GraphFailure);
        Assert.Equal(start + 3, graphed.GraphCount); // one step at 2 rows, at 4 (3 rows padded), at 1
    }

    /// <summary>What an observable gauge of the engine's meter reports now for <paramref name="model"/>.</summary>
    private static int[] Gauge(string instrument, string model)
    {
        var seen = new List<int>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (i, l) =>
        {
            if (i.Meter.Name == InferenceMetrics.MeterName && i.Name == instrument)
            {
                l.EnableMeasurementEvents(i);
            }
        };
        listener.SetMeasurementEventCallback<int>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "model" && tag.Value as string == model)
                {
                    seen.Add(value);
                }
            }
        });
        listener.Start();
        listener.RecordObservableInstruments();
        return [.. seen];
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_scratch, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static void AssertClose(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        var scale = Math.Max(1e-6, expected.Max(Math.Abs));
        var worst = expected.Zip(actual, (x, y) => Math.Abs(x - y)).Max();
        Assert.True(worst <= 1e-3 * scale, $"{what}: graph replay vs eager, max |diff| {worst:g3} of scale {scale:g3}");
    }

    /// <summary>A batch for the model's first input, values in [0, 1) from a fixed seed.</summary>
    private static Tensor Batch(ModelManifest manifest, int rows, int seed)
    {
        var shape = manifest.Inputs[0].Shape.Select((d, i) => i == 0 ? rows : d).ToArray();
        var random = new Random(seed);
        var values = new float[Tensor.ElementCountOf(shape)];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = (float)random.NextDouble();
        }

        return Tensor.FromFloat32(values, shape);
    }

    private string Record(string name, JsonObject runtime) => ModelCopy.Make(_scratch, name, runtime, Kind);
}
