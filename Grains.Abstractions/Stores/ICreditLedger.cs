namespace Actors.Grains.Stores;

/// <summary>The credit ledger and the Stripe events and customers tenants recorded, as the API reads them.</summary>
public interface ICreditLedger
{
    Task<LedgerSums> SumAsync(string tenantId);

    /// <summary>Newest first.</summary>
    Task<IReadOnlyList<LedgerRow>> ListAsync(string tenantId, int limit);

    Task<bool> EventSeenAsync(string eventId);

    /// <summary>Records an event no tenant takes (unknown customer): seen once, answered 200.</summary>
    Task RecordUnclaimedEventAsync(string eventId, string type, long created, long nowMs, string outcome);

    Task<string?> TenantOfCustomerAsync(string customerId);

    /// <summary>Stripe events as received, newest first; <paramref name="attentionOnly"/>: those an
    /// operator must act on (money for an unknown plan or pack, or for no tenant).</summary>
    Task<IReadOnlyList<StripeEventRow>> ListEventsAsync(bool attentionOnly, int limit);
}

/// <summary>A Stripe event as recorded: its tenant (null: none claimed it) and what it did.</summary>
public sealed record StripeEventRow(string EventId, string Type, string? TenantId, long CreatedS, long ReceivedMs, string Outcome)
{
    /// <summary>Money an operator must look at: a payment for an unknown plan or pack, or a
    /// payment event no tenant claimed (the same test as the store's query).</summary>
    public bool NeedsAttention => Outcome.StartsWith("attention: ", StringComparison.Ordinal) ||
        (TenantId is null && (Type.StartsWith("checkout.", StringComparison.Ordinal) || Type.StartsWith("invoice.", StringComparison.Ordinal)));
}
