namespace Actors.Grains.Billing;

/// <summary>A tenant's answer to "may this job run?". Refused: <see cref="Code"/> says which
/// check (model_not_in_plan, rate_limited, daily_quota_exceeded, monthly_quota_exceeded,
/// payment_required, unknown_tenant). Admitted: the credits reserved and the job's priority.</summary>
[GenerateSerializer(GenerateFieldIds = GenerateFieldIds.PublicProperties), Immutable]
public sealed record Admission
{
    [Id(3818303909U)]
    public bool Admitted { get; init; }

    [Id(164927988U)]
    public string? Code { get; init; }

    [Id(4255082926U)]
    public string? Detail { get; init; }

    /// <summary>When to try again (rate limit, quota period); null when waiting won't help.</summary>
    [Id(2003989884U)]
    public int? RetryAfterSeconds { get; init; }

    /// <summary>Queue priority (the plan's tier, or Free when the fair-use allowance is spent).</summary>
    [Id(766049974U)]
    public int Priority { get; init; }

    [Id(3896122364U)]
    public bool Watermark { get; init; }

    [Id(3580407341U)]
    public bool Throttled { get; init; }

    [Id(479714952U)]
    public long ReservedCredits { get; init; }

    /// <summary>Of those, credits that will be billed as overage.</summary>
    [Id(2069898927U)]
    public long ReservedOverage { get; init; }

    /// <summary>The tenant-wide bucket after this admission, for RateLimit-* headers.</summary>
    [Id(907092488U)]
    public RateLimitStatus? RateLimit { get; init; }

    /// <summary>The plan's queue-wait limit for this job, if it has one.</summary>
    [Id(2411689540U)]
    public int? MaxWaitSeconds { get; init; }

    /// <summary>The plan's retention for this job's data.</summary>
    [Id(438155144U)]
    public Jobs.DataRetention Retention { get; init; } = new();

    /// <summary>True when this job was already admitted (a retried submission): nothing new reserved.</summary>
    [Id(3534919245U)]
    public bool Repeated { get; init; }
}
