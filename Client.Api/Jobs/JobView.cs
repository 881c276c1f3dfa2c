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

    /// <summary>Whether the image at <see cref="ImageUrl"/> carries the Free plan's watermark.</summary>
    public bool? Watermarked { get; init; }

    public static JobView From(JobSnapshot job, JsonElement? output = null, int? position = null, bool watermarked = false) => new()
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
        OutputUrl = job.Status == JobStatus.Succeeded ? $"/v1/jobs/{job.JobId}/output" : null,
        ImageUrl = job.Result?.ImageRef is not null ? $"/v1/jobs/{job.JobId}/output?format=png" : null,
        Watermarked = job.Result?.ImageRef is not null ? watermarked : null,
    };
}
