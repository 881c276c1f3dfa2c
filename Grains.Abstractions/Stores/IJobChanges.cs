namespace Actors.Grains.Stores;

/// <summary>"This job changed" on this silo, signalled once the turn that changed it committed.</summary>
public interface IJobChanges
{
    /// <summary>Completes at the job's next change on this silo. Take it before reading the job,
    /// so a change between the read and the wait is not missed.</summary>
    Task NextChangeAsync(string jobId);
}
