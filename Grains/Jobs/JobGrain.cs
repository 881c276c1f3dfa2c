using Actors.Grains.Diagnostics;

namespace Actors.Grains.Jobs;

/// <summary>One job. Its state is the truth about the job: a queue row is how hosts find it, and
/// a host whose start or completion this grain rejects drops its work, so a job is reported
/// once however often it ran.</summary>
public sealed class JobGrain([PersistentState("job", Storage.OrleansProviders.JobStateStorage.Name)] IPersistentState<JobSnapshot> state, TimeProvider time, JobServices services, Hosting.CrashPoints crashes)
    : Grain, IJobGrain, Hosting.IHoldsWaiters
{
    /// <summary>Below Orleans' response time-out (30 s): a longer wait is asked again by the caller.</summary>
    private static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(20);

    /// <summary>Completed (and replaced) at every change; the pending waits hold it, nothing else does.</summary>
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private bool _released;

    private string GrainKey => this.GetPrimaryKeyString();

    public async Task<JobSnapshot> SubmitAsync(JobRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (Current.Status != JobStatus.New)
        {
            var repeat = await ApplyAsync(new JobCommand.Submit(request)); // a repeat, or rejected
            await EnsureQueuedAsync(); // the first submission may have died before its queue row
            return repeat;
        }

        if (await services.Cache.ServeAsync(request.CacheKey, request.TenantId, GrainKey, time.GetUtcNow() + request.Retention.Output) is { } cached)
        {
            return await ApplyAsync(new JobCommand.SubmitFromCache(request, cached));
        }

        var queued = await ApplyAsync(new JobCommand.Submit(request));
        await EnqueueAsync(request);
        return queued;
    }

    public async Task<bool> EnsureQueuedAsync() =>
        Current is { Status: JobStatus.Queued, Request: { } request } && await EnqueueAsync(request);

    private async Task<bool> EnqueueAsync(JobRequest request)
    {
        var added = await services.Queue.EnqueueAsync(new Actors.Storage.Queue.QueuedJob(GrainKey, request.Model, request.Tier, request.MaxAttempts, request.CacheKey));
        services.Signal.Notify(request.Model);
        return added;
    }

    /// <summary>Starts the attempt; a job that has waited past its plan's max wait (Free: 5 min)
    /// expires instead (refunded), and the caller gets the expired snapshot back.</summary>
    public async Task<JobSnapshot> StartAsync(string instanceId, int attempt)
    {
        if (Current is { Status: JobStatus.Queued, Request.MaxWaitSeconds: { } max, QueuedAt: { } queuedAt }
            && time.GetUtcNow() - queuedAt > TimeSpan.FromSeconds(max))
        {
            var expired = await ApplyAsync(new JobCommand.Expire());
            await services.Queue.RemoveAsync(GrainKey);
            return expired;
        }

        return await ApplyAsync(new JobCommand.Start(instanceId, attempt));
    }

    public Task<JobSnapshot> RequeueAsync(string reason, int attempt) => ApplyAsync(new JobCommand.Requeue(reason, attempt));

    public Task<JobSnapshot> SucceedAsync(int attempt, JobResult result) => ApplyAsync(new JobCommand.Succeed(attempt, result));

    public Task ReportProgressAsync(int attempt, JobProgress progress)
    {
        if (state.State is { Status: JobStatus.Running } running && running.Attempts == attempt)
        {
            _progress = (attempt, progress);
            Changed();
        }

        return Task.CompletedTask;
    }

    public Task<JobSnapshot> FailAsync(string reason, int? attempt) => ApplyAsync(new JobCommand.Fail(reason, attempt));

    public async Task<JobSnapshot> CancelAsync()
    {
        var after = await ApplyAsync(new JobCommand.Cancel());
        await services.Queue.RemoveAsync(GrainKey);
        return after;
    }

    public async Task<JobSnapshot> ExpireAsync()
    {
        var after = await ApplyAsync(new JobCommand.Expire());
        await services.Queue.RemoveAsync(GrainKey);
        return after;
    }

    public async Task<JobSnapshot> AbandonAsync(string reason)
    {
        if (Current.Status != JobStatus.New)
        {
            return Current; // it arrived (settled the usual way), or it is abandoned already
        }

        // No request, no tenant, no index row, no webhook: there is nothing to tell anyone.
        state.State = JobLifecycle.Apply(Current, new JobCommand.Abandon(reason), time.GetUtcNow());
        await state.WriteStateAsync();
        return Current;
    }

    public async Task<JobErasure> EraseDataAsync(string actor, bool audit)
    {
        if (!Current.IsTerminal)
        {
            throw new InvalidTransitionException($"job {GrainKey}", Current.Status.ToString(), "DataErased");
        }

        if (Current.DataErasedAt is null)
        {
            // Marked first: from now on nothing of it is served, even if what follows is retried.
            // What it kept inline goes with the mark.
            state.State = Current with
            {
                DataErasedAt = time.GetUtcNow(),
                Request = Current.Request is { } request ? request with { InputInline = null } : null,
                Result = Current.Result is { } result ? result with { OutputInline = null } : null,
            };
            await state.WriteStateAsync();
            Changed();
        }

        // Its cache entries first (they hold the same blobs), then its own references: what no
        // other job of the tenant holds is deleted, and counted here.
        var cached = await services.Cache.DropProducedByAsync(GrainKey);
        var blobs = await services.Blobs.ReleaseAsync("job:" + GrainKey);
        if (audit)
        {
            await services.Erasures.RecordAsync(actor, Current.TenantId, GrainKey, 1, blobs, cached);
        }

        return new JobErasure(Current, blobs, cached);
    }

    public async Task<bool> PurgeAsync()
    {
        if (!Current.IsTerminal)
        {
            return false;
        }

        await services.Blobs.ReleaseAsync("job:" + GrainKey); // normally expired already; a purge never leaves references behind
        await state.ClearStateAsync(); // its row, listing included
        return true;
    }

    public Task<JobSnapshot> GetAsync()
    {
        LetGoIfEnded();
        return Task.FromResult(Current);
    }

    /// <summary>An ended job's activation goes once idle: its row answers the rare later read.
    /// Kept for Orleans' collection age, every job held its activation (≈ 3.7 KB) for minutes —
    /// 700 MB over 200,000 jobs at 500 jobs/s (bench/cluster-bench.sh --soak 200000); a read after
    /// the end (a waiter's last ask, a poll) would activate it again and keep it as long.</summary>
    private void LetGoIfEnded()
    {
        if (state.State.Status is not (JobStatus.New or JobStatus.Queued or JobStatus.Running))
        {
            DeactivateOnIdle();
        }
    }

    public async Task<JobSnapshot> WaitForChangeAsync(JobStatus seenStatus, int seenAttempts, JobProgress? seenProgress, TimeSpan timeout)
    {
        // One turn from here to the await: a change cannot slip between the look and the wait.
        var changed = _changed.Task;
        var now = Current;
        if (_released || now.Status != seenStatus || now.Attempts != seenAttempts || now.Progress != seenProgress || timeout <= TimeSpan.Zero)
        {
            LetGoIfEnded();
            return now;
        }

        try
        {
            await changed.WaitAsync(timeout < MaxWait ? timeout : MaxWait);
        }
        catch (TimeoutException)
        {
            // unchanged: the caller decides whether to ask again
        }

        return Current;
    }

    /// <summary>This activation is being dropped (a call failed): its waiters go at once and
    /// ask again, reaching the next activation, which reads the stored state.</summary>
    public void ReleaseWaiters()
    {
        _released = true;
        Changed();
    }

    private void Changed()
    {
        var waiting = _changed;
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        waiting.TrySetResult();
    }

    private (int Attempt, JobProgress Progress)? _progress;

    private JobSnapshot Current => state.State with
    {
        JobId = GrainKey,
        Progress = state.State.Status == JobStatus.Running && _progress is { } p && p.Attempt == state.State.Attempts ? p.Progress : null,
    };

    private async Task<JobSnapshot> ApplyAsync(JobCommand command)
    {
        var before = Current;
        var after = JobLifecycle.Apply(before, command, time.GetUtcNow());
        if (ReferenceEquals(after, before))
        {
            return after;
        }

        state.State = after;
        await state.WriteStateAsync(); // the job's row: state and listing columns in one statement
        var key = GrainKey;
        if (after.Status == JobStatus.Running && before.Status != JobStatus.Running && after.QueuedAt is { } queued && after.StartedAt is { } started)
        {
            ActorsMetrics.QueueWait.Record(Math.Max(0, (started - queued).TotalSeconds), new("model", after.Model), new("tier", TierName(after.Tier)));
        }

        if (after.IsTerminal)
        {
            LetGoIfEnded();
            ActorsMetrics.JobsFinished.Add(1, new("model", after.Model), new("tier", TierName(after.Tier)), new("outcome", after.Status.ToString().ToLowerInvariant()));
            crashes.Reached(Hosting.CrashPoints.JobEnded, key);
            if (after.Request is { Billed: true } billed)
            {
                services.Settlement.Finished(billed.TenantId, after with { JobId = key }); // the outcome goes with the call
            }
        }

        Changed();
        return after;
    }

    private static string TierName(int tier) => ((Tenants.Tier)tier).ToString().ToLowerInvariant();
}
