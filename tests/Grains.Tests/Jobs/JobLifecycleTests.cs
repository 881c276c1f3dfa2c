using Actors.Grains.Jobs;
using FsCheck;
using FsCheck.Fluent;

namespace Actors.Grains.Tests.Jobs;

public sealed class JobLifecycleTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 22, 9, 0, 0, TimeSpan.Zero);

    private static readonly JobRequest R1 = Request("t1", 2);
    private static readonly JobResult A = new("blob:a", null, false);
    private static readonly JobResult B = new("blob:b", null, false);

    private static readonly JobCommand[] Commands =
    [
        new JobCommand.Submit(R1), new JobCommand.Submit(Request("t2", 2)), new JobCommand.SubmitFromCache(R1, A with { CacheHit = true }),
        new JobCommand.Start("i1", 1), new JobCommand.Start("i2", 2), new JobCommand.Start("i1", 3),
        new JobCommand.Requeue("instance i1 down"), new JobCommand.Requeue("lease lapsed", 1), new JobCommand.Requeue("lease lapsed", 2),
        new JobCommand.Succeed(1, A), new JobCommand.Succeed(2, B),
        new JobCommand.Fail("model error", 1), new JobCommand.Fail("out of attempts"), new JobCommand.Cancel(), new JobCommand.Expire(),
        new JobCommand.Abandon("never arrived"),
    ];

    private static JobRequest Request(string tenant, int tier) => new() { TenantId = tenant, Model = "seg", ModelVersion = "1", Tier = tier };

    [Fact]
    public void TheHappyPathRecordsItsTimings()
    {
        var job = new JobSnapshot { JobId = "j" };
        job = JobLifecycle.Apply(job, new JobCommand.Submit(R1), T0);
        job = JobLifecycle.Apply(job, new JobCommand.Start("i1", 1), T0.AddSeconds(3));
        job = JobLifecycle.Apply(job, new JobCommand.Succeed(1, A), T0.AddSeconds(5));

        Assert.Equal(JobStatus.Succeeded, job.Status);
        Assert.Equal((T0, T0.AddSeconds(3), T0.AddSeconds(5)), (job.QueuedAt!.Value, job.StartedAt!.Value, job.FinishedAt!.Value));
        Assert.Equal(("i1", 1, "blob:a"), (job.InstanceId, job.Attempts, job.Result!.OutputRef));
    }

    [Fact]
    public void IllegalMovesAreRejectedAndRepeatsAreNoOps()
    {
        var queued = JobLifecycle.Apply(new JobSnapshot { JobId = "j" }, new JobCommand.Submit(R1), T0);
        var e = Assert.Throws<InvalidTransitionException>(() => JobLifecycle.Apply(queued, new JobCommand.Succeed(0, A), T0));
        Assert.Equal("Queued", e.From);
        Assert.Same(queued, JobLifecycle.Apply(queued, new JobCommand.Submit(R1 with { }), T0));
        Assert.Throws<InvalidTransitionException>(() => JobLifecycle.Apply(queued, new JobCommand.Submit(Request("t2", 0)), T0));

        var running = JobLifecycle.Apply(queued, new JobCommand.Start("i", 1), T0);
        var again = JobLifecycle.Apply(JobLifecycle.Apply(running, new JobCommand.Requeue("lapsed", 1), T0), new JobCommand.Start("j", 2), T0);
        Assert.Same(again, JobLifecycle.Apply(again, new JobCommand.Requeue("late recovery of attempt 1", 1), T0)); // the newer attempt stands
        Assert.Equal(JobStatus.Queued, JobLifecycle.Apply(again, new JobCommand.Requeue("lapsed", 2), T0).Status);
        Assert.Throws<InvalidTransitionException>(() => JobLifecycle.Apply(running, new JobCommand.Succeed(2, A), T0)); // a stale or future attempt

        // A host claims attempt 2 (the queue ended attempt 1's lease) before the recovery's requeue
        // of attempt 1 reaches the grain: attempt 2 runs, the late requeue changes nothing, and
        // attempt 1's host can no longer report.
        var claimedFirst = JobLifecycle.Apply(running, new JobCommand.Start("k", 2), T0.AddSeconds(1));
        Assert.Equal((JobStatus.Running, "k", 2, T0.AddSeconds(1)), (claimedFirst.Status, claimedFirst.InstanceId, claimedFirst.Attempts, claimedFirst.StartedAt!.Value));
        Assert.Same(claimedFirst, JobLifecycle.Apply(claimedFirst, new JobCommand.Requeue("late recovery of attempt 1", 1), T0));
        Assert.Throws<InvalidTransitionException>(() => JobLifecycle.Apply(claimedFirst, new JobCommand.Succeed(1, A), T0));
        Assert.Throws<InvalidTransitionException>(() => JobLifecycle.Apply(claimedFirst, new JobCommand.Start("i", 1), T0)); // an older claim never takes it back
        Assert.Throws<InvalidTransitionException>(() => JobLifecycle.Apply(running, new JobCommand.Fail("late", 2), T0));
        var done = JobLifecycle.Apply(running, new JobCommand.Succeed(1, B), T0);
        Assert.Same(done, JobLifecycle.Apply(done, new JobCommand.Succeed(1, B), T0.AddHours(1)));
        Assert.Throws<InvalidTransitionException>(() => JobLifecycle.Apply(done, new JobCommand.Succeed(1, A), T0));
        Assert.Throws<InvalidTransitionException>(() => JobLifecycle.Apply(done, new JobCommand.Cancel(), T0));
    }

    [Fact]
    public void OnlyAJobThatNeverArrivedCanBeAbandonedAndThenNothingRunsIt()
    {
        var abandoned = JobLifecycle.Apply(new JobSnapshot { JobId = "j" }, new JobCommand.Abandon("never arrived"), T0);
        Assert.Equal((JobStatus.Expired, "never arrived", T0, (JobRequest?)null), (abandoned.Status, abandoned.Reason, abandoned.FinishedAt!.Value, abandoned.Request));
        Assert.Same(abandoned, JobLifecycle.Apply(abandoned, new JobCommand.Abandon("again"), T0.AddSeconds(1)));
        Assert.Throws<InvalidTransitionException>(() => JobLifecycle.Apply(abandoned, new JobCommand.Submit(R1), T0)); // a late or repeated submission
        Assert.Throws<InvalidTransitionException>(() => JobLifecycle.Apply(abandoned, new JobCommand.SubmitFromCache(R1, A with { CacheHit = true }), T0));

        var queued = JobLifecycle.Apply(new JobSnapshot { JobId = "k" }, new JobCommand.Submit(R1), T0);
        Assert.Throws<InvalidTransitionException>(() => JobLifecycle.Apply(queued, new JobCommand.Abandon("too late"), T0)); // it arrived
        var expired = JobLifecycle.Apply(queued, new JobCommand.Expire(), T0);
        Assert.Throws<InvalidTransitionException>(() => JobLifecycle.Apply(expired, new JobCommand.Abandon("no"), T0));
    }

    [Fact]
    public void AnySequenceOfCommandsKeepsTheInvariants()
    {
        Prop.ForAll(Gen.Choose(0, Commands.Length - 1).ArrayOf().ToArbitrary(), picks =>
        {
            var job = new JobSnapshot { JobId = "j" };
            var clock = T0;
            foreach (var pick in picks)
            {
                clock = clock.AddSeconds(1);
                var before = job;
                try
                {
                    job = JobLifecycle.Apply(job, Commands[pick], clock);
                }
                catch (InvalidTransitionException)
                {
                    // rejected: the state must be exactly what it was
                }

                if (before.IsTerminal && (job.Status != before.Status || job.FinishedAt != before.FinishedAt))
                {
                    return false; // a finished job never changes
                }

                if (job.Attempts < before.Attempts || job.IsTerminal != (job.FinishedAt is not null))
                {
                    return false;
                }

                if (job.Status == JobStatus.Running && (job.InstanceId is null || job.StartedAt is null))
                {
                    return false;
                }

                if (job.Status == JobStatus.Succeeded && before.Status is not (JobStatus.Running or JobStatus.Succeeded) &&
                    !(before.Status == JobStatus.New && job.Result is { CacheHit: true }))
                {
                    return false; // success only from running, or straight from the cache on submit
                }

                if (job.Status == JobStatus.Succeeded && before.Status == JobStatus.Running && job.Attempts != before.Attempts)
                {
                    return false; // only the running attempt completes
                }
            }

            return true;
        }).QuickCheckThrowOnFailure();
    }
}
