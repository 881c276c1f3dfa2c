using System.Collections.Concurrent;

namespace Actors.Client.Api.Jobs;

/// <summary>A rough wait estimate per model: position in the queue × the recent run time per
/// job (a moving average of finished jobs seen by this silo; 1 s until one is seen).</summary>
public sealed class QueueEta
{
    private readonly ConcurrentDictionary<string, double> _secondsPerJob = new(StringComparer.Ordinal);

    public void Observe(string model, TimeSpan run)
    {
        var seconds = Math.Max(0.001, run.TotalSeconds);
        _secondsPerJob.AddOrUpdate(model, seconds, (_, old) => old * 0.8 + seconds * 0.2);
    }

    public double EstimateSeconds(string model, int position) =>
        Math.Round((position + 1) * _secondsPerJob.GetValueOrDefault(model, 1.0), 3);
}
