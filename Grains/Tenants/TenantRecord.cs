using Actors.Grains.Billing;
using Actors.Storage.Billing;

namespace Actors.Grains.Tenants;

/// <summary>TenantGrain's stored state: keys (id → SHA-256), plan, quota counters, rate-limit
/// buckets, credits (the ledger's sums and open reservations) and the Stripe subscription.</summary>
public sealed record TenantRecord
{
    public string Name { get; init; } = "";

    public Tier Tier { get; init; } = Tier.Free;

    public bool Created { get; init; }

    public Dictionary<string, string> KeyHashes { get; init; } = [];

    /// <summary>Signs this tenant's webhooks (Standard Webhooks: "whsec_" + base64 key).</summary>
    public string? WebhookSecret { get; init; }

    /// <summary>Empty in records written before plans existed: the tier's plan.</summary>
    public string PlanId { get; init; } = "";

    /// <summary>Counts plan changes, for their ledger keys.</summary>
    public int PlanChanges { get; init; }

    public CreditBook Book { get; init; } = new();

    /// <summary>Unix day (UTC) the daily counter belongs to.</summary>
    public long Day { get; init; }

    public int JobsToday { get; init; }

    public long PeriodStartMs { get; init; }

    public long PeriodEndMs { get; init; }

    public int JobsThisPeriod { get; init; }

    public long OverageThisPeriod { get; init; }

    public long OverageSettled { get; init; }

    public Dictionary<string, TokenBucket> Buckets { get; init; } = [];

    public bool ReservationReminder { get; init; }

    public string? CustomerId { get; init; }

    public string? SubscriptionId { get; init; }

    public string? SubscriptionStatus { get; init; }

    /// <summary>The <c>created</c> of the newest subscription event applied: older ones are stale.</summary>
    public long SubscriptionAsOf { get; init; }

    public long? PastDueSinceMs { get; init; }

    /// <summary>Ledger and Stripe rows written with this state and not yet known inserted.</summary>
    public TenantOutbox Outbox { get; init; } = TenantOutbox.Empty;
}
