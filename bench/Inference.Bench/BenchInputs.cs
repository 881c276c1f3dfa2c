using Actors.Inference.Models;
using Actors.Inference.Tensors;

namespace Actors.Inference.Bench;

/// <summary>Random inputs of a model's shapes: floats in [0, 1), timesteps below 1000, classes
/// among the labels plus "none"; for a ddim model's batcher, whole sampling runs.</summary>
internal static class BenchInputs
{
    public static Tensor[] Forward(LoadedModel model, int rows)
    {
        var rng = new Random(rows);
        return model.Manifest.Inputs.Select(spec =>
        {
            var shape = spec.Shape.ToArray();
            shape[0] = rows;
            var count = (int)Tensor.ElementCountOf(shape);
            return spec.Dtype == "int64"
                ? Tensor.FromInt64(Enumerable.Range(0, count).Select(_ => (long)rng.Next(0, IntBound(model, spec.Name))).ToArray(), shape)
                : Tensor.FromFloat32(Enumerable.Range(0, count).Select(_ => (float)rng.NextDouble()).ToArray(), shape);
        }).ToArray();
    }

    /// <summary>An int64 input is a timestep below 1000, or a class (the labels, plus "none").</summary>
    public static int IntBound(LoadedModel model, string input) => input == "class" ? model.Manifest.Labels.Count + 1 : 1000;

    /// <summary>A ddim model's sampling runs: the inputs with a [rows, steps] schedule.</summary>
    public static Tensor[] Sampling(LoadedModel model, int rows, int steps)
    {
        var inputs = Forward(model, rows);
        var row = new DdimSchedule(model.Manifest.Postprocess).Row(steps);
        inputs[1] = Tensor.FromInt64(Enumerable.Range(0, rows).SelectMany(_ => row).ToArray(), rows, steps);
        return inputs;
    }

    /// <summary>What one call of the model's batcher takes for <paramref name="rows"/> rows.</summary>
    public static Tensor[] ForBatcher(LoadedModel model, int rows, int steps) =>
        model.Samples ? Sampling(model, rows, steps) : Forward(model, rows);

    public static void Recycle(Tensor[] outputs)
    {
        foreach (var t in outputs)
        {
            t.Recycle();
        }
    }
}
