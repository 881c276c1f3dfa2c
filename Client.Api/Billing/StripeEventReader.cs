using System.Text.Json;
using Actors.Grains.Billing;

namespace Actors.Client.Api.Billing;

/// <summary>Takes the fields billing uses out of a Stripe event's JSON (API versions before and
/// after 2025's "basil" moved period and price fields), maps prices to plans and packs, and
/// names the tenant (metadata.tenant_id, client_reference_id, else the customer).</summary>
public static class StripeEventReader
{
    /// <summary>The update, and the tenant id its metadata names (null: look up the customer).</summary>
    public static (StripeUpdate Update, string? TenantId) Read(JsonElement root, BillingOptions billing)
    {
        var id = Text(root, "id") ?? throw new FormatException("the event has no id");
        var type = Text(root, "type") ?? throw new FormatException("the event has no type");
        if (!root.TryGetProperty("created", out var createdElement) || !createdElement.TryGetInt64(out var created))
        {
            throw new FormatException("the event has no created time");
        }

        if (!root.TryGetProperty("data", out var data) || !data.TryGetProperty("object", out var o) || o.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException("the event has no data.object");
        }

        var metadata = o.TryGetProperty("metadata", out var m) && m.ValueKind == JsonValueKind.Object ? m : default;
        var update = new StripeUpdate
        {
            EventId = id,
            Type = type,
            Created = created,
            ObjectId = Text(o, "id"),
            CustomerId = Text(o, "customer"),
        };
        var tenant = Text(metadata, "tenant_id") ?? Text(o, "client_reference_id");

        if (type.StartsWith("checkout.session.", StringComparison.Ordinal))
        {
            var pack = billing.FindPack(Text(metadata, "pack"));
            update = update with
            {
                SubscriptionId = Text(o, "subscription"),
                PaymentStatus = Text(o, "payment_status"),
                PlanId = Text(o, "mode") == "subscription" ? Text(metadata, "plan") : null,
                PackCredits = Text(o, "mode") == "payment" ? pack?.Credits : null,
            };
        }
        else if (type.StartsWith("customer.subscription.", StringComparison.Ordinal))
        {
            var item = First(o, "items");
            update = update with
            {
                SubscriptionId = Text(o, "id"),
                Status = Text(o, "status"),
                PlanId = billing.PlanForStripePrice(Text(Property(item, "price"), "id"))?.Id ?? Text(metadata, "plan"),
                PeriodStart = Number(item, "current_period_start") ?? Number(o, "current_period_start"),
                PeriodEnd = Number(item, "current_period_end") ?? Number(o, "current_period_end"),
            };
        }
        else if (type.StartsWith("invoice.", StringComparison.Ordinal))
        {
            var line = First(o, "lines");
            var details = Property(Property(o, "parent"), "subscription_details");
            var period = Property(line, "period");
            var price = Text(Property(line, "price"), "id") ?? Text(Property(Property(line, "pricing"), "price_details"), "price");
            tenant ??= Text(Property(details, "metadata"), "tenant_id") ?? Text(Property(Property(o, "subscription_details"), "metadata"), "tenant_id");
            update = update with
            {
                SubscriptionId = Text(o, "subscription") ?? Text(details, "subscription"),
                PaymentStatus = Text(o, "status"),
                PlanId = billing.PlanForStripePrice(price)?.Id,
                PeriodStart = Number(period, "start"),
                PeriodEnd = Number(period, "end"),
            };
        }

        return (update, tenant);
    }

    private static JsonElement Property(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) ? v : default;

    private static string? Text(JsonElement e, string name) =>
        Property(e, name) is { ValueKind: JsonValueKind.String } v ? v.GetString() : null;

    private static long? Number(JsonElement e, string name) =>
        Property(e, name) is { ValueKind: JsonValueKind.Number } v && v.TryGetInt64(out var n) ? n : null;

    /// <summary>The first element of a Stripe list object's <c>data</c>.</summary>
    private static JsonElement First(JsonElement e, string list) =>
        Property(Property(e, list), "data") is { ValueKind: JsonValueKind.Array } items && items.GetArrayLength() > 0 ? items[0] : default;
}
