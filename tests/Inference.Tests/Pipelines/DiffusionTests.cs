using Actors.Inference.Errors;
using Actors.Inference.Imaging;
using Actors.Inference.Pipelines;

namespace Actors.Inference.Tests.Pipelines;

public sealed class DiffusionTests(EngineFixture fixture) : IClassFixture<EngineFixture>
{
    [Fact]
    public async Task TheSameSeedGivesTheSameImageAndAnotherSeedAnother()
    {
        var request = new InferenceRequest { Seed = 42, Steps = 10 };
        var a = (DiffusionOutput)await fixture.Engine.RunAsync("diffusion", request);
        var b = (DiffusionOutput)await fixture.Engine.RunAsync("diffusion", request);
        var c = (DiffusionOutput)await fixture.Engine.RunAsync("diffusion", request with { Seed = 43 });

        Assert.Equal(a.Png, b.Png);
        Assert.NotEqual(a.Png, c.Png);
        var image = ImageCodec.Decode(a.Png, 1 << 20);
        Assert.Equal((64, 64, 3), (image.Width, image.Height, image.Channels));
    }

    [Theory]
    [InlineData(10)]
    [InlineData(50)]
    public async Task SamplesAreSmoothLikeTheTrainingImagesAtAnyStepCount(int steps)
    {
        var output = (DiffusionOutput)await fixture.Engine.RunAsync("diffusion", new InferenceRequest { Seed = 7, Steps = steps });
        var image = ImageCodec.Decode(output.Png, 1 << 20);
        var noise = new GaussianNoise(7).Next(3 * 64 * 64).Select(v => (float)Math.Clamp((v + 1) / 2, 0, 1)).ToArray();

        // Mean absolute difference between horizontal neighbours: the training images are
        // flat gradients and discs (about 0.01); raw noise is about 0.4; the model as
        // exported gives about 0.04. A sampler that diverges lands near noise.
        Assert.True(Roughness(image.Pixels) < 0.2 * Roughness(noise), $"{Roughness(image.Pixels):F3} vs noise {Roughness(noise):F3}");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-3)]
    [InlineData(100000)]
    public async Task StepsOutOfRangeAreRejected(int steps)
    {
        var e = await Assert.ThrowsAsync<InvalidInputException>(() =>
            fixture.Engine.RunAsync("diffusion", new InferenceRequest { Steps = steps }));
        Assert.Contains("steps", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConcurrentSamplersShareForwards()
    {
        var model = fixture.Engine.Get("diffusion");
        var before = (model.Batcher.BatchesRun, model.Batcher.RowsRun);
        var outputs = await Task.WhenAll(Enumerable.Range(0, 6).Select(i =>
            fixture.Engine.RunAsync("diffusion", new InferenceRequest { Seed = 100 + i, Steps = 8 })));
        var alone = (DiffusionOutput)await fixture.Engine.RunAsync("diffusion", new InferenceRequest { Seed = 103, Steps = 8 });

        var batches = model.Batcher.BatchesRun - before.BatchesRun - 8;
        var rows = model.Batcher.RowsRun - before.RowsRun - 8;
        Assert.Equal(48, rows);
        Assert.True(batches < 48, $"{batches} forwards for 48 rows: nothing was batched");
        // Sharing a batch must not change an answer (beyond float rounding of the PNG's 8 bits).
        var shared = ImageCodec.Decode(outputs[3].Png!, 1 << 20).Pixels;
        var single = ImageCodec.Decode(alone.Png!, 1 << 20).Pixels;
        Assert.True(shared.Zip(single, (x, y) => Math.Abs(x - y)).Max() <= 2 / 255f);
    }

    private static double Roughness(float[] planar)
    {
        double sum = 0;
        var n = 0;
        for (var c = 0; c < 3; c++)
        {
            for (var y = 0; y < 64; y++)
            {
                for (var x = 1; x < 64; x++)
                {
                    sum += Math.Abs(planar[c * 4096 + y * 64 + x] - planar[c * 4096 + y * 64 + x - 1]);
                    n++;
                }
            }
        }

        return sum / n;
    }
}
