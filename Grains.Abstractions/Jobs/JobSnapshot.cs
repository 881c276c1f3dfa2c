namespace Actors.Grains.Jobs;

/// <summary>A job's state and timings.</summary>
public sealed record JobSnapshot
{
    public string JobId { get; init; } = "";

    public JobStatus Status { get; init; } = JobStatus.New;

    public string TenantId { get; init; } = "";

    public string Model { get; init; } = "";

    public int Tier { get; init; }

    public int Attempts { get; init; }

    public string? InstanceId { get; init; }

    public string? Reason { get; init; }

    public string? OutputRef { get; init; }

    public DateTimeOffset? QueuedAt { get; init; }

    public DateTimeOffset? StartedAt { get; init; }

    public DateTimeOffset? FinishedAt { get; init; }

    public bool IsTerminal => Status is JobStatus.Succeeded or JobStatus.Failed or JobStatus.Canceled or JobStatus.Expired;
}
