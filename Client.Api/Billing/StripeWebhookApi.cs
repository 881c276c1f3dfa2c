using System.Text;
using Actors.Grains;
using Actors.Grains.Billing;
using Actors.Grains.Stores;
using Actors.Grains.Tenants;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace Actors.Client.Api.Billing;

/// <summary><c>POST /webhooks/stripe</c>: the signature is checked by Stripe.net on the raw body before
/// anything is parsed (any failure: 400, nothing changes); then the event goes to its tenant's grain,
/// which applies it once per event id, in order of the events' own times.</summary>
internal static class StripeWebhookApi
{
    private const int MaxBodyBytes = 1024 * 1024;

    public static void MapStripeWebhook(this IEndpointRouteBuilder app) =>
        app.MapPost("/webhooks/stripe", ReceiveAsync).WithTags("billing").WithSummary("Stripe events (signed with Stripe-Signature)")
            .ProducesProblem(400).ProducesProblem(413).ProducesProblem(503);

    internal static async Task<IResult> ReceiveAsync(HttpContext context, IOptions<StripeOptions> options, BillingOptions billing, ICreditLedger ledger,
        IGrainFactory grains, TimeProvider time)
    {
        var o = options.Value;
        if (o.WebhookSecrets.Count == 0)
        {
            return Problems.Of(StatusCodes.Status503ServiceUnavailable, "stripe_webhooks_not_configured", "no Billing:Stripe:WebhookSecrets are set");
        }

        if (await BoundedBody.ReadAsync(context.Request.Body, MaxBodyBytes, context.RequestAborted) is not { } body)
        {
            return Problems.TooLarge($"a Stripe event may be at most {MaxBodyBytes} bytes");
        }

        var payload = Encoding.UTF8.GetString(body);
        var verdict = StripeEvents.Verify(context.Request.Headers["Stripe-Signature"].ToString(), payload, o.WebhookSecrets, time.GetUtcNow(),
            TimeSpan.FromSeconds(o.ToleranceSeconds));
        if (verdict != StripeEvents.Verdict.Valid)
        {
            return Problems.BadRequest(verdict switch
            {
                StripeEvents.Verdict.Missing => "missing_signature",
                StripeEvents.Verdict.Malformed => "malformed_signature",
                StripeEvents.Verdict.Stale => "stale_signature",
                _ => "invalid_signature",
            }, verdict switch
            {
                StripeEvents.Verdict.Stale => $"the Stripe-Signature timestamp is more than {o.ToleranceSeconds} s from now",
                StripeEvents.Verdict.Missing or StripeEvents.Verdict.Malformed => "the Stripe-Signature header must be t=<unix seconds>,v1=<signature>[,v1=…]",
                _ => "the Stripe-Signature header does not sign this body with the endpoint's secret",
            });
        }

        if (JsonText.Problem(body) is { } text)
        {
            return Problems.BadRequest("malformed_event", "the event is not a Stripe event object: " + text);
        }

        StripeUpdate update;
        string? tenantId;
        try
        {
            (update, tenantId) = StripeEvents.Read(StripeEvents.Parse(payload), billing);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Signed, but not an event we can read (a date out of range, a field of the wrong
            // type): Stripe's own events never look like this, so it is refused, not retried.
            return Problems.BadRequest("malformed_event", "the event is not a Stripe event object: " + e.Message);
        }

        // A reference that cannot be a tenant id (blank, too long, other characters) names none.
        tenantId = Admin.TenantIds.IsValid(tenantId) ? tenantId : null;
        if (tenantId is null && !string.IsNullOrWhiteSpace(update.CustomerId))
        {
            tenantId = await ledger.TenantOfCustomerAsync(update.CustomerId);
        }

        if (!Admin.TenantIds.IsValid(tenantId) || !(await grains.GetGrain<ITenantGrain>(tenantId).GetAsync()).Exists)
        {
            await ledger.RecordUnclaimedEventAsync(update.EventId, update.Type, update.Created, time.GetUtcNow().ToUnixTimeMilliseconds(), "no tenant");
            return TypedResults.Ok(new { received = true, outcome = "no tenant" });
        }

        var outcome = await grains.GetGrain<ITenantGrain>(tenantId).ApplyStripeAsync(update);
        return TypedResults.Ok(new { received = true, tenantId, outcome });
    }
}
