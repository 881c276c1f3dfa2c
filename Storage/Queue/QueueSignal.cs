using System.Collections.Concurrent;

namespace Actors.Storage.Queue;

/// <summary>In-process wake-up for GPU hosts: a job queued on this silo wakes the hosts waiting
/// for its model at once; across silos hosts fall back to polling the queue.</summary>
public sealed class QueueSignal
{
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _signals = new(StringComparer.Ordinal);

    public void Notify(string model)
    {
        var signal = _signals.GetOrAdd(model, static _ => new SemaphoreSlim(0, 1));
        if (signal.CurrentCount == 0)
        {
            try
            {
                signal.Release();
            }
            catch (SemaphoreFullException)
            {
                // already signalled
            }
        }
    }

    /// <summary>True if signalled before <paramref name="timeout"/>.</summary>
    public Task<bool> WaitAsync(string model, TimeSpan timeout, CancellationToken cancellationToken) =>
        _signals.GetOrAdd(model, static _ => new SemaphoreSlim(0, 1)).WaitAsync(timeout, cancellationToken);
}
