using Actors.Inference.Models;

namespace Actors.Inference.Pipelines;

/// <summary>Deterministic DDIM (eta = 0) over a noise predictor eps(x_t, t) trained with a
/// linear beta schedule: x0 = (x - sqrt(1-a_t) eps) / sqrt(a_t), clipped to [-1, 1]; eps is
/// re-derived from the clipped x0 so the two agree; x_prev = sqrt(a_prev) x0 + sqrt(1-a_prev) eps.
/// Without the re-derivation the model's error at small t was re-injected every step and
/// 50 steps diverged into noise while 10 and 25 did not (docs/inference.md).</summary>
internal sealed class DdimSampler
{
    private readonly double[] _alphaBar;

    public DdimSampler(Postprocess schedule)
    {
        _alphaBar = new double[schedule.Timesteps];
        var product = 1.0;
        for (var t = 0; t < schedule.Timesteps; t++)
        {
            var beta = schedule.BetaStart + (schedule.BetaEnd - schedule.BetaStart) * t / Math.Max(1, schedule.Timesteps - 1);
            product *= 1 - beta;
            _alphaBar[t] = product;
        }
    }

    /// <summary>Timesteps visited, from noisy to clean, evenly spaced.</summary>
    public int[] Timesteps(int steps)
    {
        var stride = _alphaBar.Length / steps;
        return Enumerable.Range(0, steps).Select(i => (steps - 1 - i) * stride).ToArray();
    }

    /// <summary>One DDIM update of <paramref name="x"/> in place; returns the x0 estimate.</summary>
    public float[] Step(float[] x, float[] eps, int t, int tPrev)
    {
        var a = _alphaBar[t];
        var aPrev = tPrev >= 0 ? _alphaBar[tPrev] : 1.0;
        double sa = Math.Sqrt(a), s1a = Math.Sqrt(1 - a), sp = Math.Sqrt(aPrev), s1p = Math.Sqrt(1 - aPrev);
        var x0 = new float[x.Length];
        for (var i = 0; i < x.Length; i++)
        {
            var estimate = Math.Clamp((x[i] - s1a * eps[i]) / sa, -1.0, 1.0);
            var noise = (x[i] - sa * estimate) / s1a;
            x0[i] = (float)estimate;
            x[i] = (float)(sp * estimate + s1p * noise);
        }

        return x0;
    }
}
