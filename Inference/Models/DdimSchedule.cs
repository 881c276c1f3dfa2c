namespace Actors.Inference.Models;

/// <summary>A ddim model's noise schedule (linear beta, the manifest's postprocess) and the
/// timesteps a sampling run visits. The sampling itself runs on the device, in the bridge
/// (tb_ddim_sample): deterministic DDIM (eta = 0); x0 = (x - sqrt(1-a_t) eps) / sqrt(a_t) clipped
/// to [-1, 1]; eps re-derived from the clipped x0 so the two agree; x_prev = sqrt(a_prev) x0 +
/// sqrt(1-a_prev) eps. Without the re-derivation the model's error at small t was re-injected
/// every step and 50 steps diverged into noise while 10 and 25 did not (docs/inference.md).</summary>
public sealed class DdimSchedule
{
    public DdimSchedule(Postprocess schedule)
    {
        AlphaBar = new double[schedule.Timesteps];
        var product = 1.0;
        for (var t = 0; t < schedule.Timesteps; t++)
        {
            var beta = schedule.BetaStart + (schedule.BetaEnd - schedule.BetaStart) * t / Math.Max(1, schedule.Timesteps - 1);
            product *= 1 - beta;
            AlphaBar[t] = product;
        }
    }

    /// <summary>Cumulative products of (1 − beta), one per training timestep.</summary>
    public double[] AlphaBar { get; }

    /// <summary>Timesteps visited, from noisy to clean, evenly spaced.</summary>
    public long[] Row(int steps)
    {
        var stride = AlphaBar.Length / steps;
        return Enumerable.Range(0, steps).Select(i => (long)(steps - 1 - i) * stride).ToArray();
    }
}
