namespace Actors.Grains.Billing;

/// <summary>What <c>GET /v1/usage</c> shows: plan, quotas, credits, reservations, period.</summary>
[GenerateSerializer(GenerateFieldIds = GenerateFieldIds.PublicProperties), Immutable]
public sealed record UsageSnapshot
{
    [Id(480056492U)]
    public string TenantId { get; init; } = "";

    [Id(1884808255U)]
    public string PlanId { get; init; } = "";

    [Id(82146219U)]
    public string PlanName { get; init; } = "";

    [Id(766049974U)]
    public int Priority { get; init; }

    [Id(3580407341U)]
    public bool Throttled { get; init; }

    [Id(3040912649U)]
    public int JobsToday { get; init; }

    [Id(3512797925U)]
    public int? DailyJobs { get; init; }

    [Id(206957577U)]
    public DateTimeOffset DayResetsAt { get; init; }

    [Id(382699809U)]
    public int JobsThisPeriod { get; init; }

    [Id(3286010809U)]
    public int? MonthlyJobs { get; init; }

    [Id(3587491001U)]
    public int? FairUseJobsPerPeriod { get; init; }

    [Id(204044448U)]
    public DateTimeOffset PeriodStart { get; init; }

    [Id(95772670U)]
    public DateTimeOffset PeriodEnd { get; init; }

    [Id(3394452843U)]
    public long IncludedCredits { get; init; }

    [Id(1213889574U)]
    public long PurchasedCredits { get; init; }

    public long Balance => IncludedCredits + PurchasedCredits;

    [Id(4112936670U)]
    public int Reservations { get; init; }

    [Id(479714952U)]
    public long ReservedCredits { get; init; }

    /// <summary>Overage credits settled this period (billed through Stripe meter events).</summary>
    [Id(2037696905U)]
    public long OverageThisPeriod { get; init; }

    /// <summary>Overage credits ever settled (the ledger's overage column sums to this plus open reservations' overage).</summary>
    [Id(2693398844U)]
    public long OverageTotal { get; init; }

    [Id(1142213281U)]
    public bool OverageAllowed { get; init; }

    [Id(4288171686U)]
    public string? StripeCustomerId { get; init; }

    [Id(706253375U)]
    public string? SubscriptionId { get; init; }

    [Id(3223346197U)]
    public string? SubscriptionStatus { get; init; }

    [Id(3742867686U)]
    public DateTimeOffset? PastDueSince { get; init; }
}
