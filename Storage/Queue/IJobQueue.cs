using Actors.Grains.Stores;

namespace Actors.Storage.Queue;

/// <summary>The durable job queue shared by every silo: GPU hosts claim batches, hold leases
/// they renew, and a lapsed lease puts the job back until its attempts run out.</summary>
public interface IJobQueue : IQueueReads
{
    /// <summary>Queues a job; false if that job id is already queued or leased (idempotent).</summary>
    Task<bool> EnqueueAsync(QueuedJob job, CancellationToken cancellationToken = default);

    /// <summary>Up to <paramref name="max"/> jobs of <paramref name="model"/>, best first; jobs
    /// another host is claiming at the same moment are skipped, never handed out twice.</summary>
    Task<IReadOnlyList<JobLease>> ClaimAsync(string model, string host, int max, TimeSpan lease, CancellationToken cancellationToken = default);

    /// <summary>Extends this host's leases; returns the job ids it still holds.</summary>
    Task<IReadOnlyList<string>> RenewAsync(string host, IReadOnlyCollection<string> jobIds, TimeSpan lease, CancellationToken cancellationToken = default);

    /// <summary>Removes a finished job; false if the host no longer holds its lease (someone
    /// else may be running it, so the caller must not report it).</summary>
    Task<bool> CompleteAsync(string jobId, string host, CancellationToken cancellationToken = default);

    /// <summary>Puts jobs with lapsed leases back, or fails those out of attempts.</summary>
    Task<IReadOnlyList<LapsedJob>> RecoverLapsedAsync(CancellationToken cancellationToken = default);

    /// <summary>Waiting jobs of a model per tier.</summary>
    Task<IReadOnlyDictionary<int, int>> DepthAsync(string model, CancellationToken cancellationToken = default);

    /// <summary>Drops a job's row whatever its state (its grain already finished it); false if none.</summary>
    Task<bool> RemoveAsync(string jobId, CancellationToken cancellationToken = default);

    /// <summary>Removes up to <paramref name="max"/> jobs still waiting that were queued before
    /// <paramref name="cutoff"/> and returns their ids (they are to expire).</summary>
    Task<IReadOnlyList<string>> TakeWaitingOlderThanAsync(DateTimeOffset cutoff, int max, CancellationToken cancellationToken = default);

    /// <summary>Ends every lease <paramref name="host"/> holds (its silo is dead), so the next
    /// <see cref="RecoverLapsedAsync"/> puts those jobs back without waiting out the lease.</summary>
    Task<int> ExpireLeasesOfAsync(string host, CancellationToken cancellationToken = default);
}
