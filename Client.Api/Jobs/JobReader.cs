using System.Diagnostics;
using System.Text.Json;
using Actors.Client.Api.Auth;
using Actors.Grains;
using Actors.Grains.Jobs;
using Actors.Grains.Stores;

namespace Actors.Client.Api.Jobs;

/// <summary>Reads jobs for their tenant (another tenant's job, or a purged one, is "not found"),
/// and waits for them to change: signalled at once on this silo, polled for others.</summary>
public sealed class JobReader(IGrainFactory grains, IBlobStore blobs, IQueueReads queue, IJobChanges events, Models.ModelCatalog catalog)
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(250);

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

    /// <summary>The job once it differs from <paramref name="seen"/> or after <paramref name="timeout"/>.</summary>
    internal async Task<JobSnapshot> WaitForChangeAsync(JobSnapshot seen, TimeSpan timeout, CancellationToken ct)
    {
        var grain = grains.GetGrain<IJobGrain>(seen.JobId);
        var clock = Stopwatch.StartNew();
        while (true)
        {
            using var watch = events.Watch(seen.JobId); // given back each round: none is left behind on a job that is done
            var now = await grain.GetAsync();
            if (now.Status != seen.Status || now.Attempts != seen.Attempts || now.Progress != seen.Progress)
            {
                return now;
            }

            var left = timeout - clock.Elapsed;
            if (left <= TimeSpan.Zero)
            {
                return now;
            }

            try
            {
                await watch.Changed.WaitAsync(left < Poll ? left : Poll, ct);
            }
            catch (TimeoutException)
            {
                // poll: the change may have happened on another silo
            }
        }
    }
}
