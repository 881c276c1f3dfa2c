using Actors.Inference.Tensors;

namespace Actors.Inference.Tests.Models;

/// <summary>This runtime, through the bridge, gives the outputs the export script saved.</summary>
public sealed class ReferenceOutputTests(EngineFixture fixture) : IClassFixture<EngineFixture>
{
    [Theory]
    [InlineData("segmentation")]
    [InlineData("classification")]
    [InlineData("diffusion")]
    public void ForwardMatchesTheExportScriptsReferenceOutputs(string name)
    {
        var model = fixture.Engine.Get(name);
        var reference = model.Manifest.Reference ?? throw new InvalidOperationException($"{name} has no reference set");
        var inputs = reference.Inputs.Select(model.Definition.ReadReference).ToArray();
        var expected = reference.Outputs.Select(model.Definition.ReadReference).ToArray();

        var actual = model.ForwardDirect(inputs);

        Assert.Equal(expected.Length, actual.Length);
        // CUDA differs by TF32/cuDNN rounding; compare relative to the output's scale there.
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i].Shape, actual[i].Shape);
            var e = expected[i].Floats;
            var a = actual[i].Floats;
            var scale = Math.Max(1.0, e.Max(Math.Abs));
            var tolerance = TestEnvironment.OnCuda ? 2e-2 * scale : reference.Tolerance * scale;
            var worst = e.Zip(a, (x, y) => Math.Abs(x - y)).Max();
            Assert.True(worst <= tolerance, $"{name} output {i}: max |diff| {worst:g4} > {tolerance:g4}");
        }
    }

    [Fact]
    public void ForwardIsDeterministicForTheSameInput()
    {
        var model = fixture.Engine.Get("segmentation");
        var input = model.Definition.ReadReference(model.Manifest.Reference!.Inputs[0]);
        var first = model.ForwardDirect([input])[0].Floats;
        var second = model.ForwardDirect([input])[0].Floats;
        Assert.Equal(first.Length, second.Length);
        Assert.True(first.Zip(second, (x, y) => Math.Abs(x - y)).Max() < 1e-4);
    }

    [Fact]
    public void BatchedForwardEqualsOneByOne()
    {
        var model = fixture.Engine.Get("classification");
        var one = model.Definition.ReadReference(model.Manifest.Reference!.Inputs[0]);
        var flipped = Tensor.FromFloat32(one.Floats.Reverse().ToArray(), 1, 1, 224, 224);
        var batched = model.ForwardDirect([Tensor.ConcatRows([one, flipped])])[0];
        var a = model.ForwardDirect([one])[0].Floats;
        var b = model.ForwardDirect([flipped])[0].Floats;
        Assert.Equal([2L, 3L], batched.Shape);
        var joined = a.Concat(b).ToArray();
        Assert.True(batched.Floats.Zip(joined, (x, y) => Math.Abs(x - y)).Max() < 1e-3);
    }
}
