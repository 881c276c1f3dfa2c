using Actors.Grains.Stores;

namespace Actors.Grains.Jobs;

/// <summary>In-process "this job changed" signals, raised by its grain once the turn that
/// changed it has committed, so a waiter that re-reads sees the change. Other silos' changes
/// are found by polling. Entries are counted: one lives while some waiter holds a watch on it
/// and the job has not changed, so a watch taken on a job that is already final (and never
/// changes again) is forgotten when its waiter is done — no entry per waited-on job is left behind.</summary>
public sealed class JobEvents : IJobChanges
{
    private readonly Dictionary<string, Entry> _waiters = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    /// <summary>Jobs some waiter is watching now.</summary>
    public int Watched
    {
        get
        {
            lock (_gate)
            {
                return _waiters.Count;
            }
        }
    }

    public void Publish(string jobId)
    {
        Entry? entry;
        lock (_gate)
        {
            _waiters.Remove(jobId, out entry);
        }

        entry?.Changed.TrySetResult();
    }

    public JobWatch Watch(string jobId)
    {
        lock (_gate)
        {
            if (!_waiters.TryGetValue(jobId, out var entry))
            {
                _waiters[jobId] = entry = new Entry();
            }

            entry.Holders++;
            return new JobWatch(entry.Changed.Task, () => Release(jobId, entry));
        }
    }

    private void Release(string jobId, Entry entry)
    {
        lock (_gate)
        {
            if (--entry.Holders == 0 && _waiters.TryGetValue(jobId, out var current) && ReferenceEquals(current, entry))
            {
                _waiters.Remove(jobId);
            }
        }
    }

    private sealed class Entry
    {
        public TaskCompletionSource Changed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Holders { get; set; }
    }
}
