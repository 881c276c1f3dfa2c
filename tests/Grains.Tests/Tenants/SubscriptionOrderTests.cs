using Actors.Grains.Billing;
using Actors.Grains.Tenants;

namespace Actors.Grains.Tests.Tenants;

/// <summary>Every pair of (the tenant's subscription state, a Stripe subscription event) through
/// <see cref="TenantBilling.ApplyStripe"/>: the table in docs/billing.md, checked cell by cell. The
/// expectation is written here from the rules, not read from the code under test.</summary>
public sealed class SubscriptionOrderTests
{
    private static readonly BillingOptions Billing = TestBilling.Options();
    private static readonly long T0 = new DateTimeOffset(2026, 11, 23, 9, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    /// <summary>The tenant before the event: on Pro with subscription sub_1 in this status ("none": no subscription yet).</summary>
    public static TheoryData<string> States => ["active", "trialing", "past_due", "unpaid", "canceled", "incomplete_expired", "none"];

    /// <summary>Events, each about sub_1 (the current one), sub_2 (another) or, for invoices, none named.</summary>
    private static readonly (string Name, StripeUpdate Update)[] Events =
    [
        ("checkout sub_1", Update("checkout.session.completed", "sub_1", mode: "subscription")),
        ("checkout sub_2", Update("checkout.session.completed", "sub_2", mode: "subscription")),
        ("created sub_2 active", Update("customer.subscription.created", "sub_2", status: "active")),
        ("created sub_2 incomplete", Update("customer.subscription.created", "sub_2", status: "incomplete")),
        ("updated sub_1 active", Update("customer.subscription.updated", "sub_1", status: "active")),
        ("updated sub_1 past_due", Update("customer.subscription.updated", "sub_1", status: "past_due")),
        ("updated sub_1 canceled", Update("customer.subscription.updated", "sub_1", status: "canceled")),
        ("updated sub_2 active", Update("customer.subscription.updated", "sub_2", status: "active")),
        ("updated sub_2 canceled", Update("customer.subscription.updated", "sub_2", status: "canceled")),
        ("deleted sub_1", Update("customer.subscription.deleted", "sub_1", status: "canceled")),
        ("deleted sub_2", Update("customer.subscription.deleted", "sub_2", status: "canceled")),
        ("payment_failed sub_1", Update("invoice.payment_failed", "sub_1")),
        ("payment_failed sub_2", Update("invoice.payment_failed", "sub_2")),
        ("payment_failed unnamed", Update("invoice.payment_failed", null)),
    ];

    private static StripeUpdate Update(string type, string? subscription, string? status = null, string? mode = null) => new()
    {
        EventId = "evt_" + type + subscription + status, Type = type, Created = (T0 / 1000) + 60, SubscriptionId = subscription, Status = status, Mode = mode,
        PlanId = "pro", CustomerId = "cus_1", PaymentStatus = "paid",
    };

    private static TenantRecord Tenant(string? status)
    {
        var r = new TenantRecord { Name = "t", Created = true, PlanId = "pro", Tier = Billing.Plan("pro").Tier, CustomerId = "cus_1" };
        r = TenantBilling.Rolled(r, Billing, T0).State;
        return status is null ? r : r with
        {
            SubscriptionId = "sub_1", SubscriptionStatus = status, SubscriptionAsOf = (T0 / 1000) - 60,
            PlanId = status is "canceled" or "incomplete_expired" ? Billing.DowngradePlan : "pro",
            PastDueSinceMs = status == "past_due" ? T0 - 1000 : null,
        };
    }

    /// <summary>The rules, stated apart from the code: no subscription yet, everything applies; the
    /// current (or an unnamed) subscription's events apply while it is not ended and never after;
    /// another subscription's apply only if they make it live.</summary>
    private static bool Applies(string? current, StripeUpdate u)
    {
        if (current is null)
        {
            return true;
        }

        var ended = current is "canceled" or "incomplete_expired";
        var same = u.SubscriptionId is null or "sub_1";
        if (same)
        {
            return !ended;
        }

        return u.Type == "checkout.session.completed" || (u.Type is "customer.subscription.created" or "customer.subscription.updated" && u.Status is "active" or "trialing" or "past_due");
    }

    /// <summary>What an event that applies leaves: its status, and whose subscription is current.</summary>
    private static (string Status, string? Id) AfterApplying(TenantRecord before, StripeUpdate u) => u.Type switch
    {
        "checkout.session.completed" => ("active", u.SubscriptionId ?? before.SubscriptionId),
        "customer.subscription.deleted" => ("canceled", u.SubscriptionId),
        "invoice.payment_failed" => ("past_due", before.SubscriptionId),
        _ => (u.Status!, u.SubscriptionId),
    };

    [Theory]
    [MemberData(nameof(States))]
    public void EveryEventAfterEveryStateAppliesOrChangesNothing(string state)
    {
        var status = state == "none" ? null : state;
        var failures = new List<string>();
        foreach (var (name, u) in Events)
        {
            var before = Tenant(status);
            var step = TenantBilling.ApplyStripe(before, u, creditedBefore: false, Billing, T0);
            var after = step.State;
            var shown = $"{state} + {name}: outcome '{step.Result}', now {after.SubscriptionId}/{after.SubscriptionStatus} on {after.PlanId}, " +
                        $"past due since {after.PastDueSinceMs?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"}, dunning {step.Effects.DunningDueMs?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"}";
            if (Applies(status, u))
            {
                if ((after.SubscriptionStatus, after.SubscriptionId) != AfterApplying(before, u))
                {
                    failures.Add($"expected {AfterApplying(before, u)}: {shown}");
                }
            }
            else if (after.SubscriptionId != before.SubscriptionId || after.SubscriptionStatus != before.SubscriptionStatus || after.PlanId != before.PlanId
                     || after.PastDueSinceMs != before.PastDueSinceMs || step.Effects.DunningDueMs is not null || !step.Result.Contains("ignored", StringComparison.Ordinal) && !step.Result.Contains("already ended", StringComparison.Ordinal))
            {
                failures.Add($"expected nothing to change: {shown}");
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }
}
