using Actors.Grains.Tenants;

namespace Actors.Grains.Billing;

/// <summary>Plans, packs, per-model prices and billing timings (section <c>Billing</c>). The
/// defaults are seed 003's hybrid plans (Free / Premium / Pro / Enterprise) and its credit
/// plans (Starter / Creator / Studio).</summary>
public sealed class BillingOptions
{
    public const string Section = "Billing";

    /// <summary>Plan id → plan. Configuration adds plans or overrides these.</summary>
    public Dictionary<string, Plan> Plans { get; init; } = DefaultPlans();

    public Dictionary<string, CreditPack> Packs { get; init; } = new()
    {
        ["credits_100"] = new() { Credits = 100, PriceUsd = 3m },
        ["credits_1000"] = new() { Credits = 1_000, PriceUsd = 20m },
        ["credits_10000"] = new() { Credits = 10_000, PriceUsd = 150m },
    };

    /// <summary>Model → credits per job; models not named cost <see cref="DefaultModelPrice"/>.</summary>
    public Dictionary<string, long> ModelPrices { get; init; } = [];

    public long DefaultModelPrice { get; init; } = 1;

    /// <summary>How often a tenant with open reservations checks on their jobs.</summary>
    public int ReservationCheckSeconds { get; init; } = 60;

    /// <summary>A reservation whose job never appeared is released after this long.</summary>
    public int ReservationGraceSeconds { get; init; } = 120;

    /// <summary>A subscription past due this long is downgraded to <see cref="DowngradePlan"/>.</summary>
    public int PastDueGraceHours { get; init; } = 72;

    public string DowngradePlan { get; init; } = "free";

    /// <summary>The Stripe meter overage credits are reported to (its <c>event_name</c>).</summary>
    public string MeterEventName { get; init; } = "inference_overage_credits";

    public Plan Plan(string id) =>
        Plans.TryGetValue(id, out var plan) ? plan with { Id = id } : throw new KeyNotFoundException($"no plan '{id}'");

    public Plan? FindPlan(string? id) => id is not null && Plans.ContainsKey(id) ? Plan(id) : null;

    /// <summary>The plan a tier stands for when only a tier is given (admin tenant creation).</summary>
    public Plan PlanForTier(Tier tier) => Plan(tier switch
    {
        Tier.Free => "free",
        Tier.Premium => "premium",
        Tier.Pro => "pro",
        _ => "enterprise",
    });

    public Plan? PlanForStripePrice(string? priceId) =>
        priceId is null ? null : Plans.Where(p => p.Value.StripePriceId == priceId).Select(p => Plan(p.Key)).FirstOrDefault();

    public CreditPack? FindPack(string? id) => id is not null && Packs.TryGetValue(id, out var pack) ? pack with { Id = id } : null;

    public long PriceOf(string model) => ModelPrices.TryGetValue(model, out var price) ? price : DefaultModelPrice;

    public static Dictionary<string, Plan> DefaultPlans() => new()
    {
        // Seed 003, option C (the default scheme). One credit is one image or one request, the
        // seed's unit; Billing:ModelPrices can make a model dearer.
        // Free: 20 images a day, low priority, watermark. Its credits are sized so the daily
        // quota, not the month, is the limit (20 × 31).
        ["free"] = new()
        {
            Name = "Free", Tier = Tier.Free, MonthlyPriceUsd = 0m, DailyJobs = 20, IncludedCredits = 620, Watermark = true, MaxWaitSeconds = 300,
            ApiAccess = false, RateLimit = new() { Jobs = 10, PerSeconds = 60 },
            ModelRateLimits = new() { ["diffusion"] = new() { Jobs = 1, PerSeconds = 30 } },
        },
        ["premium"] = new()
        {
            Name = "Premium", Tier = Tier.Premium, MonthlyPriceUsd = 15m, IncludedCredits = 5_000, FairUseJobsPerPeriod = 5_000,
            OverageUsdPerCredit = 0m, CacheHitPriceFactor = 0.5m, ApiAccess = false, RateLimit = new() { Jobs = 60, PerSeconds = 60 },
        },
        ["pro"] = new()
        {
            Name = "Pro", Tier = Tier.Pro, MonthlyPriceUsd = 49m, IncludedCredits = 5_000, FairUseJobsPerPeriod = 5_000,
            OverageUsdPerCredit = 0m, CacheHitPriceFactor = 0m, RateLimit = new() { Jobs = 600, PerSeconds = 60 },
        },
        ["enterprise"] = new()
        {
            Name = "Enterprise", Tier = Tier.Enterprise, IncludedCredits = 100_000, OverageUsdPerCredit = 0.01m, CacheHitPriceFactor = 0m,
            OverageInvoicedByContract = true, DedicatedCapacity = true, RateLimit = new() { Jobs = 6_000, PerSeconds = 60 },
        },
        // Seed 003, option B: subscription + credits (images), overage per image.
        ["free_monthly"] = new()
        {
            Name = "Free (50 a month)", Tier = Tier.Free, MonthlyPriceUsd = 0m, IncludedCredits = 50, MaxWaitSeconds = 300, ApiAccess = false,
            RateLimit = new() { Jobs = 10, PerSeconds = 60 },
        },
        ["starter"] = new()
        {
            Name = "Starter", Tier = Tier.Premium, MonthlyPriceUsd = 9m, IncludedCredits = 500, OverageUsdPerCredit = 0.025m,
            RateLimit = new() { Jobs = 60, PerSeconds = 60 },
        },
        ["creator"] = new()
        {
            Name = "Creator", Tier = Tier.Pro, MonthlyPriceUsd = 29m, IncludedCredits = 2_000, OverageUsdPerCredit = 0.018m,
            RateLimit = new() { Jobs = 300, PerSeconds = 60 },
        },
        ["studio"] = new()
        {
            Name = "Studio", Tier = Tier.Enterprise, MonthlyPriceUsd = 99m, IncludedCredits = 10_000, OverageUsdPerCredit = 0.012m,
            RateLimit = new() { Jobs = 600, PerSeconds = 60 },
        },

        // Seed 003, option A: pay per image. A monthly minimum is a subscription at the minimum's
        // price that includes that many images; each image past it is billed at the same price.
        ["free_daily"] = new()
        {
            Name = "Free (10 a day)", Tier = Tier.Free, MonthlyPriceUsd = 0m, DailyJobs = 10, IncludedCredits = 310, MaxWaitSeconds = 300, ApiAccess = false,
            RateLimit = new() { Jobs = 10, PerSeconds = 60 },
        },
        ["basic"] = new()
        {
            Name = "Basic (pay as you go)", Tier = Tier.Premium, MonthlyPriceUsd = 0m, IncludedCredits = 0, OverageUsdPerCredit = 0.02m,
            RateLimit = new() { Jobs = 60, PerSeconds = 60 },
        },
        ["pro_per_image"] = new()
        {
            Name = "Pro (per image, 500 a month minimum)", Tier = Tier.Pro, MonthlyPriceUsd = 7.50m, IncludedCredits = 500, OverageUsdPerCredit = 0.015m,
            RateLimit = new() { Jobs = 600, PerSeconds = 60 },
        },
        ["enterprise_per_image"] = new()
        {
            Name = "Enterprise (per image, 5,000 a month minimum)", Tier = Tier.Enterprise, MonthlyPriceUsd = 50m, IncludedCredits = 5_000,
            OverageUsdPerCredit = 0.01m, DedicatedCapacity = true, RateLimit = new() { Jobs = 6_000, PerSeconds = 60 },
        },
    };
}
