using Actors.Grains.Jobs;
using Actors.Storage.Blobs;
using Actors.Storage.Cache;
using Actors.Storage.Queue;
using Actors.Storage.ReadModels;

namespace Actors.Grains.Cluster;

[Hosting.ControlPlacement]
public sealed class HousekeepingGrain(IJobQueue queue, JobIndex index, ResultCache cache, BlobStore blobs, IdempotencyKeys idempotency,
    RetentionPolicy policy, TimeProvider time) : Grain, IHousekeepingGrain
{
    public const string Key = "cluster";
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

        var dropped = await cache.SweepAsync(now - policy.Retention);
        var deleted = await blobs.SweepAsync(now - policy.Retention);
        var keys = await idempotency.SweepAsync(now - policy.Retention);
        return new HousekeepingReport(expired, purged, dropped, deleted, keys, requeued);
    }
}
