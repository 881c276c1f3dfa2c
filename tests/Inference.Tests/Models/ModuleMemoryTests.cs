using System.Diagnostics;
using Actors.Inference.Tensors;

namespace Actors.Inference.Tests.Models;

[CollectionDefinition(nameof(ModuleMemoryTests), DisableParallelization = true)]
public sealed class SerialCollection;

/// <summary>Runs alone (no other test allocating beside it) so resident memory means something.</summary>
[Collection(nameof(ModuleMemoryTests))]
public sealed class ModuleMemoryTests
{
    [Fact]
    public void LoadingAndUnloadingTwoHundredTimesDoesNotGrowMemory()
    {
        var path = Path.Combine(TestEnvironment.ModelsPath, "diffusion", "model.pt");
        // x, t, the class ("none") and the guidance scale of the class-conditional demo.
        var input = new[]
        {
            Tensor.FromFloat32(new float[3 * 64 * 64], 1, 3, 64, 64), Tensor.FromInt64([10], 1), Tensor.FromInt64([12], 1), Tensor.FromFloat32([3f], 1),
        };
        void Cycle(int times)
        {
            for (var i = 0; i < times; i++)
            {
                using var module = TorchModule.Load(path, TestEnvironment.Device);
                module.Forward(input);
            }
        }

        Cycle(20);
        var before = ResidentBytes();
        Cycle(200);
        var grown = ResidentBytes() - before;

        // One load of this model holds ~3.9 MB of weights; a leak of one per cycle is 780 MB.
        Assert.True(grown < 40L << 20, $"resident memory grew by {grown >> 20} MB over 200 load/unload cycles");
    }

    private static long ResidentBytes()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        return process.WorkingSet64;
    }
}
