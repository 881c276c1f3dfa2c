using System.Diagnostics;
using System.Text.Json;
using Actors.Client.Api.Auth;
using Actors.Grains;
using Actors.Grains.Jobs;
using Actors.Grains.Stores;

namespace Actors.Client.Api.Jobs;

/// <summary>Reads jobs for their tenant (another tenant's job, or a purged one, is "not found"),
/// and waits for them to change: the job's grain answers a pending call at the change, on
/// whichever silo the reader is (no polling).</summary>
public sealed class JobReader(IGrainFactory grains, IBlobStore blobs, IQueueReads queue, Models.ModelCatalog catalog)
{
    /// <summary>Between two asks when one came back unchanged early (an activation being dropped).</summary>
    private static readonly TimeSpan Pause = TimeSpan.FromMilliseconds(20);

    internal async Task<JobSnapshot?> FindAsync(TenantCaller caller, string jobId)
    {
        if (!JobIds.LooksValid(jobId))
        {
            return null;
        }

        var job = await grains.GetGrain<IJobGrain>(jobId).GetAsync();
        return job.Request is null || job.TenantId != caller.TenantId ? null : job;
    }

    internal async Task<JobView> ViewAsync(JobSnapshot job)
    {
        JsonElement? output = null;
        if (job is { Status: JobStatus.Succeeded, DataErasedAt: null, Result.OutputInline: { } inline })
        {
            output = JsonSerializer.Deserialize<JsonElement>(inline);
        }
        else if (job is { Status: JobStatus.Succeeded, DataErasedAt: null, Result.OutputRef: { } outputRef }
            && await blobs.OpenAsync(job.TenantId, BlobClass.Output, outputRef) is { } blob)
        {
            await using (blob)
            {
                output = await JsonSerializer.DeserializeAsync<JsonElement>(blob.Content);
            }
        }

        var position = job.Status == JobStatus.Queued ? await queue.PositionAsync(job.JobId) : null;
        return JobView.From(job, output, position, Watermarked(job));
    }

    /// <summary>A Free plan's generated image carries the watermark (seed 003). The stored result
    /// stays clean — the result cache shares it with paid plans — and the stamp is applied when
    /// the image is read, so a Free job never hands out an unmarked one.</summary>
    internal bool Watermarked(JobSnapshot job) =>
        job.Request is { Watermark: true } && job.Result?.ImageRef is not null && catalog.Find(job.Model)?.Task == "diffusion";

    /// <summary>The job once it differs from <paramref name="seen"/> or after <paramref name="timeout"/>.
    /// Why a pending grain call and not an observer, a stream or Redis pub/sub: the grain compares
    /// and starts waiting in one turn, so no change slips between a read and a subscription; the
    /// wait is the call, so nothing is registered that must be given back (the waiter leak cannot
    /// happen); and it works the same embedded (no Redis) and across silos.</summary>
    internal async Task<JobSnapshot> WaitForChangeAsync(JobSnapshot seen, TimeSpan timeout, CancellationToken ct)
    {
        var grain = grains.GetGrain<IJobGrain>(seen.JobId);
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var left = timeout - clock.Elapsed;
            var asked = clock.Elapsed;
            var now = await grain.WaitForChangeAsync(seen.Status, seen.Attempts, seen.Progress, left > TimeSpan.Zero ? left : TimeSpan.Zero).WaitAsync(ct);
            if (now.Status != seen.Status || now.Attempts != seen.Attempts || now.Progress != seen.Progress || clock.Elapsed >= timeout)
            {
                return now;
            }

            if (clock.Elapsed - asked < TimeSpan.FromSeconds(1))
            {
                await Task.Delay(Pause, ct); // answered unchanged at once: its activation is going away
            }
        }
    }
}
