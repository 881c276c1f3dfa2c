using System.Globalization;
using Actors.Grains.Billing;
using Stripe;

namespace Actors.Client.Api.Billing;

/// <summary>Stripe webhooks through Stripe.net: <see cref="Verify"/> checks the
/// <c>Stripe-Signature</c> header with <see cref="EventUtility"/> against each endpoint secret (a
/// rotation has two), and <see cref="Read"/> takes what billing uses out of the typed event.</summary>
public static class StripeEvents
{
    public enum Verdict
    {
        Valid,
        Missing,
        Malformed,
        Stale,
        Mismatch,
    }

    /// <summary>Valid when some secret's signature is in the header and its <c>t</c> is within the
    /// tolerance of <paramref name="now"/>. Before the library looks at it, the header must have the
    /// shape Stripe sends (a numeric <c>t</c> and at least one <c>v1</c>), so a sender gets told
    /// which of "malformed", "stale" and "wrong secret" it is.</summary>
    public static Verdict Verify(string? header, string payload, IReadOnlyList<string> secrets, DateTimeOffset now, TimeSpan tolerance)
    {
        if (string.IsNullOrWhiteSpace(header))
        {
            return Verdict.Missing;
        }

        var parts = header.Split(',').Select(p => p.Split('=', 2)).ToList();
        if (parts.Any(p => p.Length != 2) ||
            !parts.Any(p => p[0].Trim() == "t" && int.TryParse(p[1].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out _)) ||
            !parts.Any(p => p[0].Trim() == "v1"))
        {
            return Verdict.Malformed;
        }

        var verdict = Verdict.Mismatch;
        foreach (var secret in secrets)
        {
            try
            {
                EventUtility.ValidateSignature(payload, header, secret, (long)tolerance.TotalSeconds, now.ToUnixTimeSeconds());
                return Verdict.Valid;
            }
            catch (StripeException e) when (e.Message.Contains("tolerance", StringComparison.Ordinal))
            {
                verdict = Verdict.Stale; // signed with this secret, but too old or too far ahead
            }
            catch (StripeException)
            {
            }
        }

        return verdict;
    }

    /// <summary>The event as Stripe.net types it; the endpoint's API version may differ from the
    /// library's (<c>StripeConfiguration.ApiVersion</c>): the fields billing reads are the same since
    /// 2025-03-31.basil, so a mismatch is parsed, not refused.</summary>
    public static Event Parse(string payload)
    {
        var e = EventUtility.ParseEvent(payload, throwOnApiVersionMismatch: false)
            ?? throw new FormatException("the body is not a Stripe event object");
        if (string.IsNullOrEmpty(e.Id) || string.IsNullOrEmpty(e.Type))
        {
            throw new FormatException("the event has no id or type");
        }

        if (e.Created <= DateTime.UnixEpoch)
        {
            throw new FormatException("the event has no created time");
        }

        if (e.Data is null)
        {
            throw new FormatException("the event has no data.object");
        }

        return e;
    }

    /// <summary>The update for the tenant's grain, and the tenant id the object's metadata names
    /// (null: look the customer up). Prices map to plans, pack metadata to credits.</summary>
    public static (StripeUpdate Update, string? TenantId) Read(Event e, BillingOptions billing)
    {
        var update = new StripeUpdate
        {
            EventId = e.Id,
            Type = e.Type,
            Created = new DateTimeOffset(DateTime.SpecifyKind(e.Created, DateTimeKind.Utc)).ToUnixTimeSeconds(),
        };
        switch (e.Data.Object)
        {
            case Stripe.Checkout.Session session:
            {
                var pack = billing.FindPack(Meta(session.Metadata, "pack"));
                update = update with
                {
                    ObjectId = session.Id,
                    CustomerId = session.CustomerId,
                    SubscriptionId = session.SubscriptionId,
                    PaymentStatus = session.PaymentStatus,
                    PlanId = session.Mode == "subscription" ? Meta(session.Metadata, "plan") : null,
                    PackCredits = session.Mode == "payment" ? pack?.Credits : null,
                    Mode = session.Mode,
                    Named = session.Mode == "payment" ? Meta(session.Metadata, "pack") : Meta(session.Metadata, "plan"),
                };
                return (update, Meta(session.Metadata, "tenant_id") ?? session.ClientReferenceId);
            }

            case Subscription subscription:
            {
                var item = subscription.Items?.Data?.FirstOrDefault();
                update = update with
                {
                    ObjectId = subscription.Id,
                    CustomerId = subscription.CustomerId,
                    SubscriptionId = subscription.Id,
                    Status = subscription.Status,
                    PlanId = billing.PlanForStripePrice(item?.Price?.Id)?.Id ?? Meta(subscription.Metadata, "plan"),
                    PeriodStart = Unix(item?.CurrentPeriodStart),
                    PeriodEnd = Unix(item?.CurrentPeriodEnd),
                };
                return (update, Meta(subscription.Metadata, "tenant_id"));
            }

            case Invoice invoice:
            {
                var line = invoice.Lines?.Data?.FirstOrDefault();
                var details = invoice.Parent?.SubscriptionDetails;
                update = update with
                {
                    ObjectId = invoice.Id,
                    CustomerId = invoice.CustomerId,
                    SubscriptionId = details?.SubscriptionId,
                    PaymentStatus = invoice.Status,
                    PlanId = billing.PlanForStripePrice(line?.Pricing?.PriceDetails?.PriceId)?.Id,
                    PeriodStart = Unix(line?.Period?.Start),
                    PeriodEnd = Unix(line?.Period?.End),
                };
                return (update, Meta(invoice.Metadata, "tenant_id") ?? Meta(details?.Metadata, "tenant_id"));
            }

            default:
            {
                // A type billing does not act on: kept by id (so a redelivery is a duplicate), with
                // the customer it names for finding the tenant.
                var raw = e.Data.RawObject;
                return (update with { ObjectId = (string?)raw?["id"], CustomerId = (string?)raw?["customer"] }, null);
            }
        }
    }

    private static string? Meta(Dictionary<string, string>? metadata, string key) =>
        metadata is not null && metadata.TryGetValue(key, out var value) && value.Length > 0 ? value : null;

    private static long? Unix(DateTime? at) =>
        at is { } t && t > DateTime.UnixEpoch ? new DateTimeOffset(DateTime.SpecifyKind(t, DateTimeKind.Utc)).ToUnixTimeSeconds() : null;
}
