namespace Actors.Grains.Jobs;

/// <summary>One job (key: job id). Repeating the call that reached the current state (a retry
/// after a crash) returns the snapshot unchanged; anything else illegal throws
/// <see cref="InvalidTransitionException"/>.</summary>
public interface IJobGrain : IGrainWithStringKey
{
    Task<JobSnapshot> SubmitAsync(string tenantId, string model, int tier);

    Task<JobSnapshot> StartAsync(string instanceId, int attempt);

    /// <summary>Back to the queue (its instance died); the attempt stays counted.</summary>
    Task<JobSnapshot> RequeueAsync(string reason);

    Task<JobSnapshot> SucceedAsync(string outputRef);

    Task<JobSnapshot> FailAsync(string reason);

    Task<JobSnapshot> CancelAsync();

    Task<JobSnapshot> ExpireAsync();

    Task<JobSnapshot> GetAsync();
}
