using System.Collections.Concurrent;
using Actors.Grains.Stores;

namespace Actors.Grains.Jobs;

/// <summary>In-process "this job changed" signals, raised by its grain once the turn that
/// changed it has committed, so a waiter that re-reads sees the change. Other silos' changes
/// are found by polling.</summary>
public sealed class JobEvents : IJobChanges
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _waiters = new(StringComparer.Ordinal);

    public void Publish(string jobId)
    {
        if (_waiters.TryRemove(jobId, out var waiter))
        {
            waiter.TrySetResult();
        }
    }

    /// <summary>Completes at the job's next change on this silo. Take it before reading the job,
    /// so a change between the read and the wait is not missed.</summary>
    public Task NextChangeAsync(string jobId) =>
        _waiters.GetOrAdd(jobId, static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
}
