using Actors.Grains.Tenants;

namespace Actors.Grains.Billing;

/// <summary>A plan as configuration (section <c>Billing:Plans:{id}</c>): price, priority,
/// quotas, rate limits and credits. Defaults: <see cref="BillingOptions.DefaultPlans"/>.</summary>
[GenerateSerializer(GenerateFieldIds = GenerateFieldIds.PublicProperties), Immutable]
public sealed record Plan
{
    /// <summary>The key it is configured under (set when the options are read).</summary>
    [Id(3787367797U)]
    public string Id { get; set; } = "";

    [Id(1744361788U)]
    public string Name { get; init; } = "";

    /// <summary>Queue priority of this plan's jobs.</summary>
    [Id(3309590837U)]
    public Tier Tier { get; init; } = Tier.Free;

    /// <summary>Null: custom (no self-serve checkout).</summary>
    [Id(1690627628U)]
    public decimal? MonthlyPriceUsd { get; init; }

    /// <summary>The Stripe price a Checkout Session subscribes to; null: not sold through Checkout.</summary>
    [Id(821390189U)]
    public string? StripePriceId { get; init; }

    /// <summary>Jobs admitted per UTC day; null: no daily quota.</summary>
    [Id(3512797925U)]
    public int? DailyJobs { get; init; }

    /// <summary>Jobs admitted per billing period; null: no hard monthly quota.</summary>
    [Id(3286010809U)]
    public int? MonthlyJobs { get; init; }

    /// <summary>"Unlimited*": past this many jobs in a period, jobs still run, at Free priority.</summary>
    [Id(3587491001U)]
    public int? FairUseJobsPerPeriod { get; init; }

    /// <summary>Credits included each billing period (unused ones lapse at the period's end).</summary>
    [Id(3394452843U)]
    public long IncludedCredits { get; init; }

    /// <summary>Price of a credit beyond the balance; null: no overage (out of credits → 402).
    /// Zero: jobs beyond the credits run free (the "unlimited" plans).</summary>
    [Id(2365176154U)]
    public decimal? OverageUsdPerCredit { get; init; }

    /// <summary>A cache hit costs the model's price times this (rounded up).</summary>
    [Id(410766166U)]
    public decimal CacheHitPriceFactor { get; init; } = 1m;

    /// <summary>Models this plan may use; null or empty: all.</summary>
    [Id(2432877381U)]
    public List<string>? Models { get; init; }

    /// <summary>Jobs per window for the whole tenant.</summary>
    [Id(2007512242U)]
    public RateLimitRule? RateLimit { get; init; }

    /// <summary>Stricter limits for some models (a slow model: 1 job per 30 s).</summary>
    [Id(1021321175U)]
    public Dictionary<string, RateLimitRule> ModelRateLimits { get; init; } = [];

    /// <summary>Outputs of this plan's jobs carry a watermark.</summary>
    [Id(3896122364U)]
    public bool Watermark { get; init; }

    /// <summary>A job queued longer than this expires (refunded); null: the cluster default.</summary>
    [Id(2411689540U)]
    public int? MaxWaitSeconds { get; init; }

    [Id(1199616613U)]
    public bool ApiAccess { get; init; } = true;

    /// <summary>How long this plan's inputs, outputs and cached results are kept.</summary>
    [Id(438155144U)]
    public Jobs.DataRetention Retention { get; init; } = new();

    [Id(1300419685U)]
    public bool DedicatedCapacity { get; init; }

    /// <summary>Overage is invoiced outside Stripe (a contract): the plan may run into overage
    /// without a Stripe subscription, and the ledger is the invoice's record. Otherwise paid
    /// overage (a price above zero) is billed as meter events on the tenant's Stripe
    /// subscription, and a tenant without a live one (active or trialing) gets a 402 past its
    /// credits: meter events no subscription bills would be money never collected.</summary>
    [Id(2044419634U)]
    public bool OverageInvoicedByContract { get; init; }

    /// <summary>Whether a tenant may go past its credits: the plan has overage, and it is free,
    /// invoiced by contract, or billed on a live Stripe subscription.</summary>
    public bool AllowsOverage(bool liveStripeSubscription) =>
        OverageUsdPerCredit is { } price && (price == 0 || OverageInvoicedByContract || liveStripeSubscription);

    public bool AllowsModel(string model) => Models is not { Count: > 0 } || Models.Contains(model, StringComparer.Ordinal);
}
