using Actors.Grains.Billing;

namespace Actors.Grains.Tests;

/// <summary>The default plans with the numbers these tests were written for: a dearer model
/// (diffusion costs 4 credits, a per-model price) and a Free plan of 50 credits.</summary>
internal static class TestBilling
{
    public static BillingOptions Options()
    {
        var plans = BillingOptions.DefaultPlans();
        plans["free"] = plans["free"] with { IncludedCredits = 50 };
        return new BillingOptions { ModelPrices = new() { ["diffusion"] = 4 }, Plans = plans };
    }
}
