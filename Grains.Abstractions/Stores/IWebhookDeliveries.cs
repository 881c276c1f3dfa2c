namespace Actors.Grains.Stores;

/// <summary>The webhook deliveries job grains asked for (one per job and event), as the dispatcher
/// sends them and operators list them.</summary>
public interface IWebhookDeliveries
{
    /// <summary>Newest first; one job's when <paramref name="jobId"/> is given.</summary>
    Task<IReadOnlyList<WebhookDelivery>> ListAsync(string? jobId, int limit);

    /// <summary>Leases up to <paramref name="max"/> pending deliveries that are due for <paramref name="lease"/>;
    /// another dispatcher claiming at the same moment gets others.</summary>
    Task<IReadOnlyList<DueWebhook>> ClaimDueAsync(int max, TimeSpan lease, CancellationToken cancellationToken = default);

    /// <summary>Gives a claimed delivery back without an attempt, due again at <paramref name="at"/>
    /// (its destination is busy: the others behind it go first).</summary>
    Task DeferAsync(string deliveryId, DateTimeOffset at);

    /// <summary>Records an attempt (status "delivered", "pending" or "failed") and ends the lease.</summary>
    Task RecordAsync(DeliveryOutcome outcome);
}
