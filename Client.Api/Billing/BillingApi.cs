using Actors.Client.Api.Auth;
using Actors.Grains;
using Actors.Grains.Billing;
using Actors.Grains.Tenants;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Actors.Client.Api.Billing;

/// <summary>The tenant's own billing: usage, Checkout (a plan or a credit pack), the billing portal.</summary>
internal static class BillingApi
{
    public static void MapBilling(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/usage", UsageAsync).WithTags("billing").WithSummary("Plan, quotas used and left, credits, reservations, period")
            .Produces<UsageSnapshot>().ProducesProblem(401);
        app.MapGet("/v1/billing/plans", (BillingOptions billing) => TypedResults.Ok(new
        {
            plans = billing.Plans.Keys.Select(billing.Plan).Select(PlanView),
            packs = billing.Packs.Keys.Select(k => billing.FindPack(k)!).Select(p => new { id = p.Id, credits = p.Credits, priceUsd = p.PriceUsd, purchasable = p.StripePriceId is not null }),
            modelPrices = billing.ModelPrices,
            defaultModelPrice = billing.DefaultModelPrice,
        })).WithTags("billing").WithSummary("Plans, credit packs and model prices");
        app.MapPost("/v1/billing/checkout", CheckoutAsync).WithTags("billing").WithSummary("A Stripe Checkout page for a plan or a credit pack")
            .ProducesProblem(400).ProducesProblem(401).ProducesProblem(422).ProducesProblem(502).ProducesProblem(503);
        app.MapPost("/v1/billing/portal", PortalAsync).WithTags("billing").WithSummary("A Stripe billing portal session")
            .ProducesProblem(401).ProducesProblem(409).ProducesProblem(502).ProducesProblem(503);
    }

    internal static object PlanView(Plan p) => new
    {
        id = p.Id,
        name = p.Name,
        priority = p.Tier.ToString().ToLowerInvariant(),
        monthlyPriceUsd = p.MonthlyPriceUsd,
        includedCredits = p.IncludedCredits,
        overageUsdPerCredit = p.OverageUsdPerCredit,
        dailyJobs = p.DailyJobs,
        monthlyJobs = p.MonthlyJobs,
        fairUseJobsPerPeriod = p.FairUseJobsPerPeriod,
        cacheHitPriceFactor = p.CacheHitPriceFactor,
        rateLimit = p.RateLimit,
        modelRateLimits = p.ModelRateLimits,
        models = p.Models,
        watermark = p.Watermark,
        maxWaitSeconds = p.MaxWaitSeconds,
        apiAccess = p.ApiAccess,
        dedicatedCapacity = p.DedicatedCapacity,
        purchasable = p.StripePriceId is not null,
    };

    internal static async Task<IResult> UsageAsync(HttpContext context, ApiKeyCallers callers, IGrainFactory grains)
    {
        var (caller, problem) = await callers.AuthenticateAsync(context.Request);
        return caller is null ? problem! : TypedResults.Ok(await grains.GetGrain<ITenantGrain>(caller.TenantId).GetUsageAsync());
    }

    internal static async Task<IResult> CheckoutAsync(HttpContext context, ApiKeyCallers callers, IGrainFactory grains, BillingOptions billing, StripeGateway stripe)
    {
        var (caller, problem) = await callers.AuthenticateAsync(context.Request);
        if (caller is null)
        {
            return problem!;
        }

        var body = await JsonBody.ReadAsync<CheckoutRequest>(context.Request);
        if (body is null || (body.Plan is null) == (body.Pack is null))
        {
            return Problems.BadRequest("malformed_request", "send a JSON body with either \"plan\" or \"pack\"");
        }

        var plan = billing.FindPlan(body.Plan);
        var pack = billing.FindPack(body.Pack);
        var priceId = plan?.StripePriceId ?? pack?.StripePriceId;
        if (plan is null && pack is null)
        {
            return Problems.Unprocessable(body.Plan is not null ? "unknown_plan" : "unknown_pack",
                $"no {(body.Plan is not null ? "plan" : "pack")} '{body.Plan ?? body.Pack}'; GET /v1/billing/plans lists them");
        }

        if (priceId is null)
        {
            return Problems.Unprocessable("not_purchasable", $"'{body.Plan ?? body.Pack}' has no Stripe price configured; ask for it to be set up");
        }

        if (!stripe.Configured)
        {
            return Problems.Of(StatusCodes.Status503ServiceUnavailable, "billing_not_configured", "Stripe is not configured on this cluster (Billing:Stripe:SecretKey)");
        }

        try
        {
            var tenant = grains.GetGrain<ITenantGrain>(caller.TenantId);
            var customer = await EnsureCustomerAsync(tenant, caller.TenantId, stripe, context.RequestAborted);
            var metadata = new Dictionary<string, string> { ["tenant_id"] = caller.TenantId };
            metadata[plan is not null ? "plan" : "pack"] = (plan?.Id ?? pack!.Id);
            var key = context.Request.Headers["Idempotency-Key"].ToString() is { Length: > 0 and <= 255 } k ? "checkout-" + caller.TenantId + "-" + k : "checkout-" + Guid.NewGuid().ToString("N");
            var (id, url) = await stripe.CreateCheckoutSessionAsync(customer, caller.TenantId, plan is not null, priceId, metadata, key, context.RequestAborted);
            return TypedResults.Created(url, new { id, url });
        }
        catch (Exception e) when (StripeGateway.Failure(e, context.RequestAborted) is { } failure)
        {
            return StripeProblem(context, failure);
        }
    }

    internal static async Task<IResult> PortalAsync(HttpContext context, ApiKeyCallers callers, IGrainFactory grains, StripeGateway stripe)
    {
        var (caller, problem) = await callers.AuthenticateAsync(context.Request);
        if (caller is null)
        {
            return problem!;
        }

        if (!stripe.Configured)
        {
            return Problems.Of(StatusCodes.Status503ServiceUnavailable, "billing_not_configured", "Stripe is not configured on this cluster (Billing:Stripe:SecretKey)");
        }

        var usage = await grains.GetGrain<ITenantGrain>(caller.TenantId).GetUsageAsync();
        if (usage.StripeCustomerId is not { } customer)
        {
            return Problems.Conflict("no_billing_account", "this tenant has no Stripe customer yet; start with POST /v1/billing/checkout");
        }

        try
        {
            return TypedResults.Created("", new { url = await stripe.CreatePortalSessionAsync(customer, "portal-" + Guid.NewGuid().ToString("N"), context.RequestAborted) });
        }
        catch (Exception e) when (StripeGateway.Failure(e, context.RequestAborted) is { } failure)
        {
            return StripeProblem(context, failure);
        }
    }

    /// <summary>The tenant's Stripe customer, created once: the create is idempotent per tenant,
    /// and the tenant keeps the first id it is told.</summary>
    private static async Task<string> EnsureCustomerAsync(ITenantGrain tenant, string tenantId, StripeGateway stripe, CancellationToken ct)
    {
        var usage = await tenant.GetUsageAsync();
        if (usage.StripeCustomerId is { } existing)
        {
            return existing;
        }

        var name = (await tenant.GetAsync()).Name;
        return await tenant.LinkStripeCustomerAsync(await stripe.CreateCustomerAsync(tenantId, name, ct));
    }

    /// <summary>Stripe's rate limit is a 503 to retry shortly; anything else Stripe refused, or not
    /// reaching it after Stripe.net's retries, is a 502.</summary>
    private static IResult StripeProblem(HttpContext context, StripeFailure failure)
    {
        if (failure.Status == StatusCodes.Status429TooManyRequests)
        {
            context.Response.Headers.RetryAfter = "5";
            return Problems.Of(StatusCodes.Status503ServiceUnavailable, "stripe_rate_limited", "Stripe is rate limiting this cluster; try again in a few seconds");
        }

        return Problems.Of(StatusCodes.Status502BadGateway, "stripe_error",
            $"Stripe refused or could not be reached ({failure.Type}, HTTP {failure.Status}): {failure.Message}");
    }

    internal sealed record CheckoutRequest(string? Plan, string? Pack);
}
