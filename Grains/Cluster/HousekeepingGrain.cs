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

    public async Task<TenantErasure> EraseTenantAsync(string tenantId, string actor)
    {
        // Unfinished jobs are canceled (refunded) first, so nothing runs on data being erased.
        var jobs = 0;
        var counted = ErasureCount.None;
        var cached = 0;
        foreach (var jobId in await index.JobIdsOfTenantAsync(tenantId))
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
                counted = counted.Plus(erased.Blobs with { Kept = 0 });
                cached += erased.CacheEntries;
                jobs++;
            }
            catch (InvalidTransitionException)
            {
                // not finished after all (a new submission racing the erasure): its own erasure later
            }
        }

        cached += await cache.DropTenantAsync(tenantId);
        counted = counted.Plus(await blobs.EraseTenantAsync(tenantId));
        await erasures.RecordAsync(actor, tenantId, null, jobs, counted, cached);
        Diagnostics.ActorsMetrics.BlobsDeleted.Add(counted.Deleted, new KeyValuePair<string, object?>("reason", "erasure"));
        return new TenantErasure(tenantId, jobs, counted, cached);
    }
}
