namespace Actors.Grains.Jobs;

/// <summary>The job state machine as a pure function. A command that repeats the one that
/// reached the current state returns the state unchanged (retries after crashes are safe);
/// any other illegal command throws <see cref="InvalidTransitionException"/>.</summary>
public static class JobLifecycle
{
    public static JobSnapshot Apply(JobSnapshot job, JobCommand command, DateTimeOffset now)
    {
        var after = Decide(job, command, now);
        // An ended job needs its input no more: an inline one goes with the transition.
        return !ReferenceEquals(after, job) && after.IsTerminal && after.Request is { InputInline: not null } request
            ? after with { Request = request with { InputInline = null } }
            : after;
    }

    private static JobSnapshot Decide(JobSnapshot job, JobCommand command, DateTimeOffset now)
    {
        var s = job.Status;
        switch (command)
        {
            case JobCommand.Submit c when s == JobStatus.New:
                return job with { Status = JobStatus.Queued, Request = c.Request, QueuedAt = now };
            case JobCommand.Submit c when c.Request.SameAs(job.Request):
                return job;

            case JobCommand.SubmitFromCache c when s == JobStatus.New:
                return job with { Status = JobStatus.Succeeded, Request = c.Request, Result = c.Result, QueuedAt = now, FinishedAt = now };
            case JobCommand.SubmitFromCache c when c.Request.SameAs(job.Request) && s == JobStatus.Succeeded:
                return job;

            case JobCommand.Start c when s == JobStatus.Queued && c.Attempt > job.Attempts: // a claim whose host died before starting still counts
                return job with { Status = JobStatus.Running, InstanceId = c.InstanceId, Attempts = c.Attempt, StartedAt = now, Reason = null };
            case JobCommand.Start c when s == JobStatus.Running && job.InstanceId == c.InstanceId && job.Attempts == c.Attempt:
                return job;
            case JobCommand.Start c when s == JobStatus.Running && c.Attempt > job.Attempts:
                // The queue hands out attempt N+1 only after attempt N's lease ended and its row went
                // back (a dead host's, recovered): the grain may hear that claim before the recovery's
                // requeue, which then arrives late for an attempt that is over and changes nothing.
                return job with { InstanceId = c.InstanceId, Attempts = c.Attempt, StartedAt = now, Reason = null };

            case JobCommand.Requeue c when s == JobStatus.Running && (c.Attempt is null || c.Attempt == job.Attempts):
                return job with { Status = JobStatus.Queued, InstanceId = null, Reason = c.Reason };
            case JobCommand.Requeue c when s is JobStatus.Running or JobStatus.Queued && c.Attempt < job.Attempts:
                return job; // a late requeue of an attempt that is over: the newer one stands
            case JobCommand.Requeue when s == JobStatus.Queued && job.Attempts > 0:
                return job;

            case JobCommand.Succeed c when s == JobStatus.Running && job.Attempts == c.Attempt:
                return job with { Status = JobStatus.Succeeded, Result = c.Result, FinishedAt = now };
            case JobCommand.Succeed c when s == JobStatus.Succeeded && job.Result == c.Result && job.Attempts == c.Attempt:
                return job;

            case JobCommand.Fail c when s == JobStatus.Queued && c.Attempt is null:
            case JobCommand.Fail c2 when s == JobStatus.Running && (c2.Attempt is null || c2.Attempt == job.Attempts):
                return job with { Status = JobStatus.Failed, Reason = ((JobCommand.Fail)command).Reason, FinishedAt = now };
            case JobCommand.Fail when s == JobStatus.Failed:
                return job;

            case JobCommand.Cancel when s is JobStatus.Queued or JobStatus.Running:
                return job with { Status = JobStatus.Canceled, FinishedAt = now };
            case JobCommand.Cancel when s == JobStatus.Canceled:
                return job;

            case JobCommand.Expire when s == JobStatus.Queued:
                return job with { Status = JobStatus.Expired, FinishedAt = now };
            case JobCommand.Expire when s == JobStatus.Expired:
                return job;

            case JobCommand.Abandon c when s == JobStatus.New:
                return job with { Status = JobStatus.Expired, Reason = c.Reason, FinishedAt = now };
            case JobCommand.Abandon when job.IsAbandoned:
                return job;

            default:
                throw new InvalidTransitionException($"job {job.JobId}", s.ToString(), Describe(command));
        }
    }

    private static string Describe(JobCommand command) => command.GetType().Name switch
    {
        "Submit" => "Queued (submit)",
        "SubmitFromCache" => "Succeeded (from cache)",
        "Start" => "Running (start)",
        "Requeue" => "Queued (requeue)",
        "Succeed" => "Succeeded (attempt " + ((JobCommand.Succeed)command).Attempt + ")",
        "Fail" => "Failed",
        "Cancel" => "Canceled",
        "Abandon" => "Expired (abandoned)",
        _ => "Expired",
    };
}
