namespace Actors.Cluster.Bench;

/// <summary>Rate and latency percentiles of one phase.</summary>
internal sealed record Percentiles(double PerSecond, double P50Ms, double P99Ms, int Count)
{
    public static Percentiles Of(List<double> latenciesMs, TimeSpan elapsed)
    {
        latenciesMs.Sort();
        return new Percentiles(latenciesMs.Count / elapsed.TotalSeconds, At(latenciesMs, 0.5), At(latenciesMs, 0.99), latenciesMs.Count);
    }

    private static double At(List<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)Math.Round(p * (sorted.Count - 1)))];
}
