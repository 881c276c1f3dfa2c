namespace Actors.Grains.Billing;

/// <summary>A tenant's answer to "may this job run?". Refused: <see cref="Code"/> says which
/// check (model_not_in_plan, rate_limited, daily_quota_exceeded, monthly_quota_exceeded,
/// payment_required, unknown_tenant). Admitted: the credits reserved and the job's priority.</summary>
[GenerateSerializer(GenerateFieldIds = GenerateFieldIds.PublicProperties), Immutable]
public sealed record Admission
{
    public bool Admitted { get; init; }

    public string? Code { get; init; }

    public string? Detail { get; init; }

    /// <summary>When to try again (rate limit, quota period); null when waiting won't help.</summary>
    public int? RetryAfterSeconds { get; init; }

    /// <summary>Queue priority (the plan's tier, or Free when the fair-use allowance is spent).</summary>
    public int Priority { get; init; }

    public bool Watermark { get; init; }

    public bool Throttled { get; init; }

    public long ReservedCredits { get; init; }

    /// <summary>Of those, credits that will be billed as overage.</summary>
    public long ReservedOverage { get; init; }

    /// <summary>The tenant-wide bucket after this admission, for RateLimit-* headers.</summary>
    public RateLimitStatus? RateLimit { get; init; }

    /// <summary>The plan's queue-wait limit for this job, if it has one.</summary>
    public int? MaxWaitSeconds { get; init; }

    /// <summary>The plan's retention for this job's data.</summary>
    public Jobs.DataRetention Retention { get; init; } = new();

    /// <summary>True when this job was already admitted (a retried submission): nothing new reserved.</summary>
    public bool Repeated { get; init; }
}
