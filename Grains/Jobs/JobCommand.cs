namespace Actors.Grains.Jobs;

/// <summary>What can happen to a job; <see cref="JobLifecycle.Apply"/> decides if it may.</summary>
public abstract record JobCommand
{
    public sealed record Submit(JobRequest Request) : JobCommand;

    /// <summary>Submitted and answered from the result cache in one step.</summary>
    public sealed record SubmitFromCache(JobRequest Request, JobResult Result) : JobCommand;

    public sealed record Start(string InstanceId, int Attempt) : JobCommand;

    /// <summary>Back to the queue because attempt <paramref name="Attempt"/> lost its lease; a
    /// requeue for an older attempt than the job's (a late one) changes nothing.</summary>
    public sealed record Requeue(string Reason, int? Attempt = null) : JobCommand;

    public sealed record Succeed(int Attempt, JobResult Result) : JobCommand;

    public sealed record Fail(string Reason, int? Attempt = null) : JobCommand;

    public sealed record Cancel : JobCommand;

    public sealed record Expire : JobCommand;

    /// <summary>Never arrived: closed before any submission (see <see cref="IJobGrain.AbandonAsync"/>).</summary>
    public sealed record Abandon(string Reason) : JobCommand;
}
