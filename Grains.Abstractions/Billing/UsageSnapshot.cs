namespace Actors.Grains.Billing;

/// <summary>What <c>GET /v1/usage</c> shows: plan, quotas, credits, reservations, period.</summary>
[GenerateSerializer(GenerateFieldIds = GenerateFieldIds.PublicProperties), Immutable]
public sealed record UsageSnapshot
{
    public string TenantId { get; init; } = "";

    public string PlanId { get; init; } = "";

    public string PlanName { get; init; } = "";

    public int Priority { get; init; }

    public bool Throttled { get; init; }

    public int JobsToday { get; init; }

    public int? DailyJobs { get; init; }

    public DateTimeOffset DayResetsAt { get; init; }

    public int JobsThisPeriod { get; init; }

    public int? MonthlyJobs { get; init; }

    public int? FairUseJobsPerPeriod { get; init; }

    public DateTimeOffset PeriodStart { get; init; }

    public DateTimeOffset PeriodEnd { get; init; }

    public long IncludedCredits { get; init; }

    public long PurchasedCredits { get; init; }

    public long Balance => IncludedCredits + PurchasedCredits;

    public int Reservations { get; init; }

    public long ReservedCredits { get; init; }

    /// <summary>Overage credits settled this period (billed through Stripe meter events).</summary>
    public long OverageThisPeriod { get; init; }

    /// <summary>Overage credits ever settled (the ledger's overage column sums to this plus open reservations' overage).</summary>
    public long OverageTotal { get; init; }

    public bool OverageAllowed { get; init; }

    public string? StripeCustomerId { get; init; }

    public string? SubscriptionId { get; init; }

    public string? SubscriptionStatus { get; init; }

    public DateTimeOffset? PastDueSince { get; init; }
}
