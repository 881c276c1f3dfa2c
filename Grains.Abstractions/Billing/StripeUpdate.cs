namespace Actors.Grains.Billing;

/// <summary>A verified Stripe event as a tenant grain applies it: the fields billing reads,
/// taken out of the event's JSON by the webhook endpoint (prices already mapped to plans and packs).</summary>
[GenerateSerializer(GenerateFieldIds = GenerateFieldIds.PublicProperties), Immutable]
public sealed record StripeUpdate
{
    [Id(473900466U)]
    public required string EventId { get; init; }

    [Id(1474275255U)]
    public required string Type { get; init; }

    /// <summary>The event's <c>created</c> (unix seconds): orders events about the subscription.</summary>
    [Id(1280433847U)]
    public long Created { get; init; }

    [Id(3517210016U)]
    public string? CustomerId { get; init; }

    [Id(706253375U)]
    public string? SubscriptionId { get; init; }

    /// <summary>Subscription status (active, trialing, past_due, canceled, unpaid, …).</summary>
    [Id(4097559480U)]
    public string? Status { get; init; }

    /// <summary>The plan the subscription's price (or the checkout's metadata) stands for.</summary>
    [Id(762777982U)]
    public string? PlanId { get; init; }

    [Id(3708790355U)]
    public long? PeriodStart { get; init; }

    [Id(34439014U)]
    public long? PeriodEnd { get; init; }

    /// <summary>Checkout Session, invoice or other object id: the ledger key of a payment.</summary>
    [Id(2208542744U)]
    public string? ObjectId { get; init; }

    /// <summary>A paid credit pack's credits (checkout in payment mode).</summary>
    [Id(781352949U)]
    public long? PackCredits { get; init; }

    /// <summary>Checkout Session payment_status, or invoice status.</summary>
    [Id(34887871U)]
    public string? PaymentStatus { get; init; }

    /// <summary>Checkout Session mode: payment (a credit pack) or subscription (a plan).</summary>
    [Id(3661275634U)]
    public string? Mode { get; init; }

    /// <summary>The plan or pack a Checkout Session's metadata names, known or not.</summary>
    [Id(665724500U)]
    public string? Named { get; init; }
}
