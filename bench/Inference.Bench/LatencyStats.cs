namespace Actors.Inference.Bench;

/// <summary>Throughput and latency percentiles of one measured phase.</summary>
internal sealed record LatencyStats(string Name, int Batch, double ItemsPerSecond, double P50Ms, double P99Ms)
{
    public static LatencyStats From(string name, int batch, long items, TimeSpan elapsed, List<double> latenciesMs)
    {
        latenciesMs.Sort();
        return new LatencyStats(name, batch, items / elapsed.TotalSeconds, Percentile(latenciesMs, 0.5), Percentile(latenciesMs, 0.99));
    }

    private static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)Math.Round(p * (sorted.Count - 1)))];
}
