namespace Actors.Grains.Stores;

/// <summary>"This job changed" on this silo, signalled once the turn that changed it committed.</summary>
public interface IJobChanges
{
    /// <summary>A watch on the job's next change on this silo. Take it before reading the job, so a
    /// change between the read and the wait is not missed; dispose it when done waiting (a watch
    /// on a job that never changes again is then forgotten, not kept).</summary>
    JobWatch Watch(string jobId);
}

/// <summary>One waiter's hold on a job's next change: <see cref="Changed"/> completes at it;
/// disposing gives the hold back (the last one out removes the entry).</summary>
public sealed class JobWatch(Task changed, Action release) : IDisposable
{
    private int _released;

    public Task Changed => changed;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0)
        {
            release();
        }
    }
}
