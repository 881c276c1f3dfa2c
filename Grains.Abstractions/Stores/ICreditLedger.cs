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
}
