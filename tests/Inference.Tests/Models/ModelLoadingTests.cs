using Actors.Inference.Errors;
using Actors.Inference.Models;
using Actors.Inference.Tensors;

namespace Actors.Inference.Tests.Models;

public sealed class ModelLoadingTests : IDisposable
{
    private readonly string _scratch = Directory.CreateTempSubdirectory("actors-models-").FullName;

    [Fact]
    public void AMissingModelFileIsATypedErrorNamingThePath()
    {
        var path = Path.Combine(_scratch, "absent.pt");
        var e = Assert.Throws<ModelLoadException>(() => TorchModule.Load(path, "cpu"));
        Assert.Contains("absent.pt", e.Message, StringComparison.Ordinal);
        Assert.Contains("not found", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(64)]
    [InlineData(4096)]
    public void ACorruptModelFileIsATypedError(int garbageBytes)
    {
        var path = Path.Combine(_scratch, $"corrupt{garbageBytes}.pt");
        File.WriteAllBytes(path, Enumerable.Range(0, garbageBytes).Select(i => (byte)(i * 37)).ToArray());
        var e = Assert.Throws<ModelLoadException>(() => TorchModule.Load(path, "cpu"));
        Assert.Contains("not a loadable TorchScript file", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void ATruncatedModelFileIsATypedError()
    {
        var source = File.ReadAllBytes(Path.Combine(TestEnvironment.ModelsPath, "segmentation", "model.pt"));
        var path = Path.Combine(_scratch, "truncated.pt");
        File.WriteAllBytes(path, source.AsSpan(0, source.Length / 2).ToArray());
        Assert.Throws<ModelLoadException>(() => TorchModule.Load(path, "cpu"));
    }

    [Fact]
    public void AnInvalidManifestIsRejectedWithEveryProblemNamed()
    {
        var folder = Directory.CreateDirectory(Path.Combine(_scratch, "bad")).FullName;
        File.WriteAllText(Path.Combine(folder, "manifest.json"), """
            { "name": "bad", "version": "1", "task": "poetry",
              "inputs": [{ "name": "x", "dtype": "float16", "shape": [1, 3] }],
              "outputs": [{ "name": "y", "dtype": "float32", "shape": [-1] }],
              "preprocess": { "channels": 1, "height": 8, "width": 8 },
              "postprocess": { "kind": "argmax" } }
            """);
        var e = Assert.Throws<ModelLoadException>(() => ModelRegistry.Read(folder));
        Assert.Contains("task 'poetry'", e.Message, StringComparison.Ordinal);
        Assert.Contains("float16", e.Message, StringComparison.Ordinal);
        Assert.Contains("leading batch dimension", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MalformedManifestJsonIsATypedError()
    {
        var folder = Directory.CreateDirectory(Path.Combine(_scratch, "json")).FullName;
        File.WriteAllText(Path.Combine(folder, "manifest.json"), "{ not json");
        Assert.Throws<ModelLoadException>(() => ModelRegistry.Read(folder));
    }

    [Fact]
    public void UnknownOrUnavailableDevicesAreTypedErrors()
    {
        Assert.Throws<DeviceUnavailableException>(() => TorchRuntime.ResolveDevice("tpu"));
        Assert.Throws<DeviceUnavailableException>(() => TorchRuntime.ResolveDevice("cuda:99"));
        if (!TorchRuntime.CudaAvailable)
        {
            Assert.Equal("cpu", TorchRuntime.ResolveDevice("auto"));
            var e = Assert.Throws<DeviceUnavailableException>(() => TorchRuntime.ResolveDevice("cuda"));
            Assert.Contains("CUDA is not available", e.Message, StringComparison.Ordinal);
            var path = Path.Combine(TestEnvironment.ModelsPath, "segmentation", "model.pt");
            Assert.Throws<DeviceUnavailableException>(() => TorchModule.Load(path, "cuda"));
        }
        else
        {
            Assert.Equal("cuda", TorchRuntime.ResolveDevice("auto"));
        }
    }

    [Fact]
    public void TheRuntimeReportsVersionsAndThreads()
    {
        TorchRuntime.Configure(TestEnvironment.Options());
        Assert.Matches(@"^\d+\.\d+\.\d+$", TorchRuntime.BridgeVersion);
        Assert.Matches(@"^\d+\.\d+", TorchRuntime.TorchVersion);
        Assert.True(TorchRuntime.Threads >= 1);
        Assert.NotNull(TorchRuntime.BridgePath);
    }

    [Fact]
    public async Task TheRuntimesIdleGapClosesALoneBatchWithoutWaitingOutTheMaxDelay()
    {
        // A max delay of ten minutes: only the 500 µs idle gap can answer a lone request in time.
        var folder = ModelCopy.Make(_scratch, "classification", new() { ["idleGapMicros"] = 500 }, "cpu", new() { ["maxQueueDelayMs"] = 600_000 });
        await using var model = LoadedModel.Load(ModelRegistry.Read(folder), "cpu", 64);
        Assert.Equal(TimeSpan.FromMicroseconds(500), model.Batcher.Options.IdleGap);

        var answer = await model.ForwardAsync([Tensor.FromFloat32(new float[224 * 224], 1, 1, 224, 224)])
            .WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);

        Assert.Equal(1, answer[0].Shape[0]);
        Assert.Equal(1, model.Batcher.BatchesRun);
    }

    [Fact]
    public async Task OnCpuABatchHasNoIdleGapUnlessTheRuntimeGivesOne()
    {
        await using var model = LoadedModel.Load(ModelRegistry.Read(ModelCopy.Make(_scratch, "classification", [], "cpu")), "cpu", 64);
        Assert.Null(model.Batcher.Options.IdleGap);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(5_001)] // the max delay is 5 ms
    public void AnIdleGapBelowZeroOrPastTheMaxDelayIsRefused(int micros)
    {
        var folder = ModelCopy.Make(_scratch, "classification", new() { ["idleGapMicros"] = micros }, "cuda");
        var e = Assert.Throws<ModelLoadException>(() => ModelRegistry.Read(folder));
        Assert.Contains($"runtime.cuda.idleGapMicros must be from 0 to batch.maxQueueDelayMs (5 ms = 5000 µs), not {micros}", e.Message, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_scratch, recursive: true);
}
