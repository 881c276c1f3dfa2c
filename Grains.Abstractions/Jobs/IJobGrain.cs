using Orleans.Concurrency;
namespace Actors.Grains.Jobs;

/// <summary>One job (key: job id). Repeating the call that reached the current state (a retry
/// after a crash) returns the snapshot unchanged; anything else illegal throws
/// <see cref="InvalidTransitionException"/>. The grain is the arbiter of a job's outcome: a
/// host whose start or completion it rejects drops its work.</summary>
public interface IJobGrain : IGrainWithStringKey
{
    /// <summary>Queues the job, or completes it at once from the result cache.</summary>
    Task<JobSnapshot> SubmitAsync(JobRequest request);

    /// <summary>Starts the attempt, or, for a job past its plan's max wait, expires it (the
    /// returned snapshot says which).</summary>
    Task<JobSnapshot> StartAsync(string instanceId, int attempt);

    /// <summary>Back to the queue (its lease lapsed); the attempt stays counted.</summary>
    Task<JobSnapshot> RequeueAsync(string reason, int attempt);

    /// <summary>The running attempt's progress (kept in memory, shown on reads and the event
    /// stream); ignored unless <paramref name="attempt"/> is the one running.</summary>
    Task ReportProgressAsync(int attempt, JobProgress progress);

    /// <summary>Accepted only from the running attempt <paramref name="attempt"/>.</summary>
    Task<JobSnapshot> SucceedAsync(int attempt, JobResult result);

    /// <summary>Fails the job; with an attempt, only if that attempt is the one running.</summary>
    Task<JobSnapshot> FailAsync(string reason, int? attempt);

    Task<JobSnapshot> CancelAsync();

    Task<JobSnapshot> ExpireAsync();

    /// <summary>A queued job whose queue row is missing (its silo died between storing "queued" and
    /// the row) gets the row back; true if it was put in again. Idempotent.</summary>
    Task<bool> EnsureQueuedAsync();

    /// <summary>Closes a job that never arrived (its tenant admitted it, then the submission was
    /// lost): it becomes Expired without a request, so no later submission can run it — it was
    /// never paid for. A job that did arrive is returned as it is.</summary>
    Task<JobSnapshot> AbandonAsync(string reason);

    /// <summary>Erases a finished job's input and output at its tenant's request (or an admin's):
    /// marks the job, drops its blob references and the cache entries it produced (blobs nothing
    /// else of the tenant references are deleted) and records who did it. Repeating it is harmless.
    /// Throws <see cref="InvalidTransitionException"/> for a job that has not finished.</summary>
    Task<JobErasure> EraseDataAsync(string actor, bool audit);

    /// <summary>Forgets a finished job (retention); false if it is not finished.</summary>
    Task<bool> PurgeAsync();

    [ReadOnly]
    Task<JobSnapshot> GetAsync();

    /// <summary>The job once it differs from what the caller saw (status, attempt or progress), or
    /// as it is after <paramref name="timeout"/> (at most 20 s a call): answered by the grain at the
    /// change, wherever the caller's silo is. The wait is this pending call — nothing is
    /// registered that could outlive it.</summary>
    [AlwaysInterleave]
    Task<JobSnapshot> WaitForChangeAsync(JobStatus seenStatus, int seenAttempts, JobProgress? seenProgress, TimeSpan timeout);
}
