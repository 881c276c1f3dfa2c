namespace Actors.Grains.Stores;

/// <summary>What billing owes Stripe, written by tenant grains with the charge they report, as the
/// dispatcher sends it and operators list it.</summary>
public interface IStripeOutbox
{
    /// <summary>Newest first; one tenant's when <paramref name="tenantId"/> is given.</summary>
    Task<IReadOnlyList<StripeCall>> ListAsync(string? tenantId, int limit);

    /// <summary>Leases up to <paramref name="max"/> pending calls that are due for <paramref name="lease"/>.</summary>
    Task<IReadOnlyList<StripeCall>> ClaimDueAsync(int max, TimeSpan lease, CancellationToken cancellationToken = default);

    /// <summary>Records an attempt (status "sent", "pending" or "failed") and ends the lease.</summary>
    Task RecordAsync(DeliveryOutcome outcome);
}
