namespace Actors.Grains.Jobs;

/// <summary>A job's state and timings.</summary>
[GenerateSerializer(GenerateFieldIds = GenerateFieldIds.PublicProperties), Immutable]
public sealed record JobSnapshot
{
    public string JobId { get; init; } = "";

    public JobStatus Status { get; init; } = JobStatus.New;

    public JobRequest? Request { get; init; }

    public string TenantId => Request?.TenantId ?? "";

    public string Model => Request?.Model ?? "";

    public int Tier => Request?.Tier ?? 0;

    public int Attempts { get; init; }

    public string? InstanceId { get; init; }

    public string? Reason { get; init; }

    public JobResult? Result { get; init; }

    public DateTimeOffset? QueuedAt { get; init; }

    public DateTimeOffset? StartedAt { get; init; }

    public DateTimeOffset? FinishedAt { get; init; }

    /// <summary>How far the running attempt is (a volume's slices), as its host last reported;
    /// held by the grain in memory, not stored.</summary>
    public JobProgress? Progress { get; init; }

    /// <summary>When its input and output were erased at the tenant's request (they read as 404 since).</summary>
    public DateTimeOffset? DataErasedAt { get; init; }

    public bool IsTerminal => Status is JobStatus.Succeeded or JobStatus.Failed or JobStatus.Canceled or JobStatus.Expired;

    /// <summary>Admitted but never arrived, and closed for it (<see cref="IJobGrain.AbandonAsync"/>): no request will ever run.</summary>
    public bool IsAbandoned => Status == JobStatus.Expired && Request is null;
}
