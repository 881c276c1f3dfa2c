using Actors.Grains.Jobs;

namespace Actors.Client.Api.Jobs;

/// <summary>The answer to DELETE /v1/jobs/{id}/data: when, and what went (objects deleted and
/// their bytes; objects kept because another live job of the tenant uses the same content; cache
/// entries this job had produced). Repeating the call answers the same time and zeros.</summary>
internal sealed record ErasureView(string JobId, DateTimeOffset ErasedAt, int ObjectsDeleted, long BytesDeleted, int ObjectsKept, int CacheEntriesDropped)
{
    public static ErasureView Of(JobErasure e) =>
        new(e.Job.JobId, e.Job.DataErasedAt ?? DateTimeOffset.MinValue, e.Blobs.Deleted, e.Blobs.Bytes, e.Blobs.Kept, e.CacheEntries);
}
