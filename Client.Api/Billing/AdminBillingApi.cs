using Actors.Grains;
using Actors.Grains.Billing;
using Actors.Grains.Stores;
using Actors.Grains.Tenants;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Builder;

namespace Actors.Client.Api.Billing;

/// <summary>/admin billing: a tenant's plan, credit grants and revocations (once per grant id),
/// usage, the ledger with a check that its sums equal the tenant's balances, the Stripe outbox.</summary>
internal static class AdminBillingApi
{
    public static void MapAdminBilling(this RouteGroupBuilder group)
    {
        group.MapPut("/tenants/{id}/plan", SetPlanAsync).WithSummary("Move a tenant to a plan (its included credits become the plan's)");
        group.MapPost("/tenants/{id}/credits", GrantAsync).WithSummary("Grant (or, negative, revoke) credits once per grantId");
        group.MapGet("/tenants/{id}/usage", async (string id, IGrainFactory grains) =>
            await Existing(grains, id) is { } tenant ? TypedResults.Ok(await tenant.GetUsageAsync()) : TenantNotFound(id));
        group.MapGet("/tenants/{id}/ledger", LedgerAsync).WithSummary("Ledger rows, newest first, and whether their sums equal the balances");
        group.MapGet("/billing/stripe-outbox", OutboxAsync).WithSummary("What was, or is to be, sent to Stripe");
        group.MapGet("/billing/stripe-events", EventsAsync)
            .WithSummary("Stripe events received and what each did; ?attention=true: money taken for an unknown plan or pack, or for no tenant");
    }

    internal static async Task<IResult> SetPlanAsync(string id, HttpRequest request, IGrainFactory grains, BillingOptions billing)
    {
        var body = await JsonBody.ReadAsync<PlanRequest>(request);
        if (body?.Plan is not { Length: > 0 } planId)
        {
            return Problems.BadRequest("malformed_request", "send {\"plan\": \"<plan id>\"}");
        }

        if (billing.FindPlan(planId) is null)
        {
            return Problems.Unprocessable("unknown_plan", $"no plan '{planId}'; plans: {string.Join(", ", billing.Plans.Keys)}");
        }

        return await Existing(grains, id) is { } tenant ? TypedResults.Ok(await tenant.SetPlanAsync(planId)) : TenantNotFound(id);
    }

    internal static async Task<IResult> GrantAsync(string id, HttpRequest request, IGrainFactory grains)
    {
        var body = await JsonBody.ReadAsync<GrantRequest>(request);
        var grantId = body?.GrantId ?? (request.Headers["Idempotency-Key"].ToString() is { Length: > 0 } k ? k : null);
        if (body is null || body.Credits is 0 or < -1_000_000_000 or > 1_000_000_000)
        {
            return Problems.BadRequest("malformed_request", "send {\"credits\": N, \"grantId\": \"…\", \"reason\": \"…\"} with N ≠ 0 (negative revokes), |N| ≤ 10⁹");
        }

        if (grantId is not { Length: > 0 and <= 200 })
        {
            return Problems.BadRequest("malformed_request", "a grantId (or Idempotency-Key header) is required, so a retried grant counts once");
        }

        if (await Existing(grains, id) is not { } tenant)
        {
            return TenantNotFound(id);
        }

        try
        {
            return TypedResults.Ok(await tenant.GrantCreditsAsync(grantId, body.Credits, body.Reason));
        }
        catch (InvalidOperationException e)
        {
            return Problems.Conflict("insufficient_credits", e.Message);
        }
    }

    internal static async Task<IResult> LedgerAsync(string id, IGrainFactory grains, ICreditLedger ledger, int? limit)
    {
        if (await Existing(grains, id) is not { } tenant)
        {
            return TenantNotFound(id);
        }

        var usage = await tenant.GetUsageAsync();
        var sums = await ledger.SumAsync(id);
        var rows = await ledger.ListAsync(id, Math.Clamp(limit ?? 100, 1, 1000));
        return TypedResults.Ok(new
        {
            tenantId = id,
            balance = new { included = usage.IncludedCredits, purchased = usage.PurchasedCredits },
            ledgerSums = new { included = sums.Included, purchased = sums.Purchased, overage = sums.Overage, rows = sums.Rows },
            consistent = sums.Included == usage.IncludedCredits && sums.Purchased == usage.PurchasedCredits,
            entries = rows.Select(r => new
            {
                id = r.Id, key = r.Entry.Key, kind = r.Entry.Kind, included = r.Entry.Included, purchased = r.Entry.Purchased,
                overage = r.Entry.Overage, jobId = r.Entry.JobId, reference = r.Entry.Reference, at = r.At,
            }),
        });
    }

    internal static async Task<IResult> OutboxAsync(IStripeOutbox outbox, string? tenant, int? limit) =>
        TypedResults.Ok((await outbox.ListAsync(tenant, Math.Clamp(limit ?? 100, 1, 1000)))
            .Select(r => new { id = r.Id, tenantId = r.TenantId, path = r.Path, form = System.Text.Json.JsonDocument.Parse(r.Form).RootElement, status = r.Status, attempts = r.Attempts, lastError = r.LastError })
            .ToList());

    internal static async Task<IResult> EventsAsync(ICreditLedger ledger, bool? attention, int? limit) =>
        TypedResults.Ok((await ledger.ListEventsAsync(attention == true, Math.Clamp(limit ?? 100, 1, 1000)))
            .Select(e => new
            {
                eventId = e.EventId, type = e.Type, tenantId = e.TenantId, created = DateTimeOffset.FromUnixTimeSeconds(e.CreatedS),
                received = DateTimeOffset.FromUnixTimeMilliseconds(e.ReceivedMs), outcome = e.Outcome,
                attention = e.NeedsAttention,
            })
            .ToList());

    private static async Task<ITenantGrain?> Existing(IGrainFactory grains, string id)
    {
        var tenant = grains.GetGrain<ITenantGrain>(id);
        return (await tenant.GetAsync()).Exists ? tenant : null;
    }

    private static IResult TenantNotFound(string id) => Problems.NotFound("tenant_not_found", $"no tenant '{id}'");

    internal sealed record PlanRequest(string? Plan);

    internal sealed record GrantRequest(long Credits, string? GrantId, string? Reason);
}
