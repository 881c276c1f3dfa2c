using System.Globalization;
using Actors.Grains.Jobs;
using Actors.Grains.Stores;
using Actors.Storage.Blobs;
using Actors.Storage.Cache;
using Actors.Storage.Queue;
using Actors.Storage.ReadModels;

namespace Actors.Grains.Cluster;

[Hosting.ControlPlacement]
public sealed class HousekeepingGrain(IJobQueue queue, JobIndex index, ResultCache cache, BlobStore blobs, IdempotencyKeys idempotency,
    ErasureLog erasures, RetentionPolicy policy, TimeProvider time) : Grain, IHousekeepingGrain
{
    public const string Key = IHousekeepingGrain.ClusterKey;
    private const string ReminderName = "sweep";
    private const int BatchSize = 500;
    private const int ErasureParallelism = 8;
    private static readonly TimeSpan ClockSlack = TimeSpan.FromMinutes(1);

    public Task StartAsync(TimeSpan period) => this.RegisterOrUpdateReminder(ReminderName, period, period);

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        Hosting.ReminderLag.Record(status, reminderName, time);
        if (reminderName == ReminderName)
        {
            await SweepAsync();
        }
    }

    public async Task<HousekeepingReport> SweepAsync()
    {
        var now = time.GetUtcNow();
        var expired = 0;
        foreach (var jobId in await queue.TakeWaitingOlderThanAsync(now - policy.MaxQueueTime, BatchSize))
        {
            try
            {
                await GrainFactory.GetGrain<IJobGrain>(jobId).ExpireAsync();
                expired++;
            }
            catch (InvalidTransitionException)
            {
                // started or finished meanwhile: its grain decides
            }
        }

        // A job stored as queued whose row never made it (its silo died between the two writes)
        // would wait forever; a minute later than its last change it is put back.
        var requeued = 0;
        foreach (var jobId in await index.QueuedWithoutRowAsync(now - TimeSpan.FromMinutes(1), BatchSize))
        {
            requeued += await GrainFactory.GetGrain<IJobGrain>(jobId).EnsureQueuedAsync() ? 1 : 0;
        }

        var purged = 0;
        foreach (var jobId in await index.FinishedBeforeAsync(now - policy.Retention, BatchSize))
        {
            if (await GrainFactory.GetGrain<IJobGrain>(jobId).PurgeAsync())
            {
                purged++;
            }
        }

        // Data by class: cache entries past their plan's cache days since last use, then blob
        // references past their class's days, then the objects nothing references any more.
        var dropped = await cache.SweepAsync(now, BatchSize);
        var deleted = await blobs.SweepAsync(now, BatchSize);
        var keys = await idempotency.SweepAsync(now - policy.Retention);
        Diagnostics.ActorsMetrics.BlobsDeleted.Add(deleted.Deleted, new KeyValuePair<string, object?>("reason", "retention"));
        Diagnostics.ActorsMetrics.RecordBlobTotals(await blobs.TotalsAsync());
        return new HousekeepingReport(expired, purged, dropped, deleted.Deleted, keys, requeued);
    }

    public async Task<TenantErasure> EraseTenantAsync(TenantErasure soFar, string actor)
    {
        var tenantId = soFar.TenantId;
        var at = ErasureCursor.Parse(soFar.Resume)
            ?? new ErasureCursor(time.GetUtcNow().Add(ClockSlack).ToUnixTimeMilliseconds(), long.MinValue, "");
        var page = await index.JobsOfTenantAsync(tenantId, at.AfterCreatedMs, at.AfterJobId, at.UntilMs, policy.ErasureJobsPerPass);

        // Unfinished jobs are canceled (refunded) first, so nothing runs on data being erased;
        // a few jobs at a time, each its own grain.
        var done = new List<(bool Erased, ErasureCount Blobs, int Cached)>();
        foreach (var chunk in page.Chunk(ErasureParallelism))
        {
            done.AddRange(await Task.WhenAll(chunk.Select(j => EraseJobAsync(j.JobId, actor))));
        }

        var erased = soFar with
        {
            Jobs = soFar.Jobs + done.Count(d => d.Erased),
            Blobs = done.Aggregate(soFar.Blobs, (sum, d) => sum.Plus(d.Blobs)),
            CacheEntries = soFar.CacheEntries + done.Sum(d => d.Cached),
        };
        if (page.Count == policy.ErasureJobsPerPass)
        {
            return erased with { Complete = false, Resume = new ErasureCursor(at.UntilMs, page[^1].CreatedMs, page[^1].JobId).ToString() };
        }

        var cached = erased.CacheEntries + await cache.DropTenantAsync(tenantId);
        var counted = erased.Blobs.Plus(await blobs.EraseTenantAsync(tenantId));
        await erasures.RecordAsync(actor, tenantId, null, erased.Jobs, counted, cached);
        Diagnostics.ActorsMetrics.BlobsDeleted.Add(counted.Deleted, new KeyValuePair<string, object?>("reason", "erasure"));
        return new TenantErasure(tenantId, erased.Jobs, counted, cached);
    }

    private async Task<(bool Erased, ErasureCount Blobs, int Cached)> EraseJobAsync(string jobId, string actor)
    {
        var grain = GrainFactory.GetGrain<IJobGrain>(jobId);
        var job = await grain.GetAsync();
        if (!job.IsTerminal)
        {
            try
            {
                await grain.CancelAsync();
            }
            catch (InvalidTransitionException)
            {
                // finished meanwhile
            }
        }

        try
        {
            var erased = await grain.EraseDataAsync(actor, audit: false);
            return (true, erased.Blobs with { Kept = 0 }, erased.CacheEntries);
        }
        catch (InvalidTransitionException)
        {
            // not finished after all (a new submission racing the erasure): its own erasure later
            return (false, ErasureCount.None, 0);
        }
    }

    /// <summary>Where the next pass of a tenant's erasure starts: after the job
    /// (<see cref="AfterCreatedMs"/>, <see cref="AfterJobId"/>), among the jobs created by
    /// <see cref="UntilMs"/> (when the first pass began, plus <see cref="ClockSlack"/> for silos'
    /// clocks), so a tenant still submitting cannot keep the erasure going for ever.</summary>
    private sealed record ErasureCursor(long UntilMs, long AfterCreatedMs, string AfterJobId)
    {
        public override string ToString() => FormattableString.Invariant($"{UntilMs}:{AfterCreatedMs}:{AfterJobId}");

        public static ErasureCursor? Parse(string? text) =>
            text?.Split(':', 3) is [var until, var after, var job]
                && long.TryParse(until, NumberStyles.Integer, CultureInfo.InvariantCulture, out var u)
                && long.TryParse(after, NumberStyles.Integer, CultureInfo.InvariantCulture, out var a)
                ? new ErasureCursor(u, a, job)
                : null;
    }
}
