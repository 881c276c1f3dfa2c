using System.Text.Json;
using Actors.Grains;
using Actors.Grains.Billing;
using Actors.Grains.Stores;
using Actors.Grains.Tenants;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace Actors.Client.Api.Billing;

/// <summary><c>POST /webhooks/stripe</c>: the signature is checked on the raw bytes before anything
/// is parsed (any failure: 400, nothing changes); then the event goes to its tenant's grain,
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

        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int n;
        while ((n = await context.Request.Body.ReadAsync(chunk, context.RequestAborted)) > 0)
        {
            if (buffer.Length + n > MaxBodyBytes)
            {
                return Problems.TooLarge($"a Stripe event may be at most {MaxBodyBytes} bytes");
            }

            buffer.Write(chunk, 0, n);
        }

        var payload = buffer.ToArray();
        var verdict = StripeSignature.Verify(context.Request.Headers["Stripe-Signature"].ToString(), payload, o.WebhookSecrets, time.GetUtcNow(),
            TimeSpan.FromSeconds(o.ToleranceSeconds));
        if (verdict != StripeSignature.Result.Valid)
        {
            return Problems.BadRequest(verdict switch
            {
                StripeSignature.Result.Missing => "missing_signature",
                StripeSignature.Result.Malformed => "malformed_signature",
                StripeSignature.Result.Stale => "stale_signature",
                _ => "invalid_signature",
            }, verdict == StripeSignature.Result.Stale
                ? $"the Stripe-Signature timestamp is more than {o.ToleranceSeconds} s from now"
                : "the Stripe-Signature header does not sign this body with the endpoint's secret");
        }

        StripeUpdate update;
        string? tenantId;
        try
        {
            using var document = JsonDocument.Parse(payload);
            (update, tenantId) = StripeEventReader.Read(document.RootElement, billing);
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException)
        {
            return Problems.BadRequest("malformed_event", "the event is not a Stripe event object: " + e.Message);
        }

        if (tenantId is null && update.CustomerId is { } customer)
        {
            tenantId = await ledger.TenantOfCustomerAsync(customer);
        }

        if (tenantId is null || !(await grains.GetGrain<ITenantGrain>(tenantId).GetAsync()).Exists)
        {
            await ledger.RecordUnclaimedEventAsync(update.EventId, update.Type, update.Created, time.GetUtcNow().ToUnixTimeMilliseconds(), "no tenant");
            return TypedResults.Ok(new { received = true, outcome = "no tenant" });
        }

        var outcome = await grains.GetGrain<ITenantGrain>(tenantId).ApplyStripeAsync(update);
        return TypedResults.Ok(new { received = true, tenantId, outcome });
    }
}
