using System.Text.Json;
using Actors.Grains.Jobs;

namespace Actors.Client.Api.Jobs;

/// <summary>A job as clients see it. <see cref="Output"/> is the model's JSON answer once the
/// job succeeded (the image, if any, is at <see cref="ImageUrl"/>).</summary>
public sealed record JobView
{
    public required string Id { get; init; }

    public required string Status { get; init; }

    public required string Model { get; init; }

    public string? ModelVersion { get; init; }

    public required string Tier { get; init; }

    public int Attempts { get; init; }

    public string? Instance { get; init; }

    public string? Reason { get; init; }

    public bool? CacheHit { get; init; }

    public DateTimeOffset? QueuedAt { get; init; }

    public DateTimeOffset? StartedAt { get; init; }

    public DateTimeOffset? FinishedAt { get; init; }

    public int? QueuePosition { get; init; }

    public JsonElement? Output { get; init; }

    public string? OutputUrl { get; init; }

    public string? ImageUrl { get; init; }

    /// <summary>A volume job's label volume (NIfTI, gzipped).</summary>
    public string? VolumeUrl { get; init; }

    /// <summary>Whether the image at <see cref="ImageUrl"/> carries the Free plan's watermark.</summary>
    public bool? Watermarked { get; init; }

    /// <summary>While running: slices done of a volume, as its host last reported.</summary>
    public JobProgress? Progress { get; init; }

    /// <summary>When the tenant erased this job's input and output (they read as 404 since).</summary>
    public DateTimeOffset? DataErasedAt { get; init; }

    public static JobView From(JobSnapshot job, JsonElement? output = null, int? position = null, bool watermarked = false)
    {
        var kept = job.Status == JobStatus.Succeeded && job.DataErasedAt is null;
        var file = kept ? job.Result?.ImageRef : null;
        var volume = job.Request?.InputContentType == Inference.Volumes.Nifti.ContentType;
        return new()
    {
        Id = job.JobId,
        Status = job.Status.ToString().ToLowerInvariant(),
        Model = job.Model,
        ModelVersion = job.Request?.ModelVersion,
        Tier = ((Grains.Tenants.Tier)job.Tier).ToString(),
        Attempts = job.Attempts,
        Instance = job.InstanceId,
        Reason = job.Reason,
        CacheHit = job.Result?.CacheHit,
        QueuedAt = job.QueuedAt,
        StartedAt = job.StartedAt,
        FinishedAt = job.FinishedAt,
        QueuePosition = position,
        Output = output,
        OutputUrl = kept ? $"/v1/jobs/{job.JobId}/output" : null,
        ImageUrl = file is not null && !volume ? $"/v1/jobs/{job.JobId}/output?format=png" : null,
        VolumeUrl = file is not null && volume ? $"/v1/jobs/{job.JobId}/output?format=nifti" : null,
        Watermarked = file is not null && !volume ? watermarked : null,
        Progress = job.Progress,
        DataErasedAt = job.DataErasedAt,
    };
    }
}
