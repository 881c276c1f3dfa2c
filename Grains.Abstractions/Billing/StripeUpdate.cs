namespace Actors.Grains.Billing;

/// <summary>A verified Stripe event as a tenant grain applies it: the fields billing reads,
/// taken out of the event's JSON by the webhook endpoint (prices already mapped to plans and packs).</summary>
[GenerateSerializer(GenerateFieldIds = GenerateFieldIds.PublicProperties), Immutable]
public sealed record StripeUpdate
{
    public required string EventId { get; init; }

    public required string Type { get; init; }

    /// <summary>The event's <c>created</c> (unix seconds): orders events about the subscription.</summary>
    public long Created { get; init; }

    public string? CustomerId { get; init; }

    public string? SubscriptionId { get; init; }

    /// <summary>Subscription status (active, trialing, past_due, canceled, unpaid, …).</summary>
    public string? Status { get; init; }

    /// <summary>The plan the subscription's price (or the checkout's metadata) stands for.</summary>
    public string? PlanId { get; init; }

    public long? PeriodStart { get; init; }

    public long? PeriodEnd { get; init; }

    /// <summary>Checkout Session, invoice or other object id: the ledger key of a payment.</summary>
    public string? ObjectId { get; init; }

    /// <summary>A paid credit pack's credits (checkout in payment mode).</summary>
    public long? PackCredits { get; init; }

    /// <summary>Checkout Session payment_status, or invoice status.</summary>
    public string? PaymentStatus { get; init; }

    /// <summary>Checkout Session mode: payment (a credit pack) or subscription (a plan).</summary>
    public string? Mode { get; init; }

    /// <summary>The plan or pack a Checkout Session's metadata names, known or not.</summary>
    public string? Named { get; init; }
}
