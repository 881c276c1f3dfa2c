namespace Actors.Grains.Jobs;

/// <summary>A job's state and timings.</summary>
[GenerateSerializer(GenerateFieldIds = GenerateFieldIds.PublicProperties), Immutable]
public sealed record JobSnapshot
{
    [Id(1735247499U)]
    public string JobId { get; init; } = "";

    [Id(2629505686U)]
    public JobStatus Status { get; init; } = JobStatus.New;

    [Id(2019968191U)]
    public JobRequest? Request { get; init; }

    public string TenantId => Request?.TenantId ?? "";

    public string Model => Request?.Model ?? "";

    public int Tier => Request?.Tier ?? 0;

    [Id(883475236U)]
    public int Attempts { get; init; }

    [Id(3607129399U)]
    public string? InstanceId { get; init; }

    [Id(3745323563U)]
    public string? Reason { get; init; }

    [Id(3661526123U)]
    public JobResult? Result { get; init; }

    [Id(3158231732U)]
    public DateTimeOffset? QueuedAt { get; init; }

    [Id(2816328946U)]
    public DateTimeOffset? StartedAt { get; init; }

    [Id(3147026803U)]
    public DateTimeOffset? FinishedAt { get; init; }

    /// <summary>How far the running attempt is (a volume's slices), as its host last reported;
    /// held by the grain in memory, not stored.</summary>
    [Id(1156552606U)]
    public JobProgress? Progress { get; init; }

    /// <summary>When its input and output were erased at the tenant's request (they read as 404 since).</summary>
    [Id(2274735325U)]
    public DateTimeOffset? DataErasedAt { get; init; }

    public bool IsTerminal => Status is JobStatus.Succeeded or JobStatus.Failed or JobStatus.Canceled or JobStatus.Expired;

    /// <summary>Admitted but never arrived, and closed for it (<see cref="IJobGrain.AbandonAsync"/>): no request will ever run.</summary>
    public bool IsAbandoned => Status == JobStatus.Expired && Request is null;
}
