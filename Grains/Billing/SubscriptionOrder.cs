namespace Actors.Grains.Billing;

/// <summary>Which Stripe subscription events may follow which state of the tenant's subscription.
/// Stripe sends events in no set order, retries them, and keeps sending about subscriptions that
/// have ended; a tenant has one current subscription, and these rules keep an event about an
/// ended or another subscription from moving it:
/// <list type="bullet">
/// <item>No subscription yet: every event applies.</item>
/// <item>The event names the current subscription, or none (an invoice without its subscription):
/// it applies while the subscription is live; once it is <c>canceled</c> or <c>incomplete_expired</c>
/// (terminal in Stripe: a canceled subscription never comes back, a new one has a new id) nothing
/// but <c>invoice.paid</c>'s credits applies: no <c>invoice.payment_failed</c> (no past_due, no
/// dunning), no update, no checkout.</item>
/// <item>The event names another subscription: it applies only if it makes that one live (a
/// subscription-mode checkout, or created/updated as active, trialing or past_due: the tenant
/// moved to a new subscription); its end, its failed payments and its other states do not touch
/// the current one.</item>
/// </list>
/// Events not about a subscription's state (credit packs, <c>invoice.paid</c>, others) are not
/// gated here. Events older than the state (by Stripe's <c>created</c>) are stale before this.</summary>
public static class SubscriptionOrder
{
    public static bool IsEnded(string? status) => status is "canceled" or "incomplete_expired";

    public static bool IsLive(string? status) => status is "active" or "trialing" or "past_due";

    /// <summary>Null if <paramref name="u"/> may change a subscription that is
    /// <paramref name="currentId"/> in <paramref name="currentStatus"/>; else why it does not.</summary>
    public static string? Refusal(string? currentId, string? currentStatus, StripeUpdate u)
    {
        ArgumentNullException.ThrowIfNull(u);
        var gated = u.Type is "customer.subscription.created" or "customer.subscription.updated" or "customer.subscription.deleted" or "invoice.payment_failed"
            || (u.Type == "checkout.session.completed" && u.Mode == "subscription");
        if (!gated || currentId is null)
        {
            return null;
        }

        var same = u.SubscriptionId is null || u.SubscriptionId == currentId;
        if (same)
        {
            return !IsEnded(currentStatus) ? null
                : u.Type == "customer.subscription.deleted" ? $"subscription {currentId} already ended"
                : $"subscription {currentId} is {currentStatus}: it stays so (a new subscription has a new id); {u.Type} ignored";
        }

        var makesLive = u.Type == "checkout.session.completed" || (u.Type is "customer.subscription.created" or "customer.subscription.updated" && IsLive(u.Status));
        return makesLive ? null : $"subscription {u.SubscriptionId} is not the tenant's current one ({currentId}); {u.Type} ignored";
    }
}
