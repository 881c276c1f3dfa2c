using Actors.Grains.Billing;
using Actors.Grains.Jobs;
using Actors.Grains.Tenants;
using FsCheck;
using FsCheck.Fluent;

namespace Actors.Grains.Tests.Tenants;

/// <summary>The tenant's decisions called directly as pure functions: no silo, no store; a state,
/// an input and a time in, the next state, the answer and the effects out.</summary>
public sealed class TenantBillingTests
{
    private static readonly BillingOptions Billing = TestBilling.Options();
    private static readonly long T0 = new DateTimeOffset(2026, 11, 23, 9, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    private static TenantRecord Tenant(string plan) =>
        TenantBilling.Rolled(new TenantRecord { Name = "t", Created = true, PlanId = plan, Tier = Billing.Plan(plan).Tier }, Billing, T0).State;

    private static JobSnapshot Job(string id, JobStatus status, bool cacheHit = false, string model = "seg") => new()
    {
        JobId = id, Status = status, Request = new JobRequest { TenantId = "t", Model = model, ModelVersion = "1" },
        Result = status == JobStatus.Succeeded ? new JobResult("out", null, cacheHit) : null,
    };

    private static (long Included, long Purchased) Sums(IEnumerable<LedgerEntry> entries) =>
        (entries.Sum(e => e.Included), entries.Sum(e => e.Purchased));

    [Fact]
    public void AnAdmissionReservesThePriceCountsTheJobAndAsksForTheReservationsReminderOnce()
    {
        var start = Tenant("free");
        var first = TenantBilling.Admit(start, new AdmissionRequest("t", "j1", "diffusion"), Billing, T0 + 1000);

        Assert.True(first.Result.Admitted);
        Assert.Equal((4L, 1, 1), (first.Result.ReservedCredits, first.State.JobsToday, first.State.JobsThisPeriod));
        Assert.Equal(46, first.State.Book.Balance);
        Assert.Equal("reserve", Assert.Single(first.Effects.Ledger).Kind);
        Assert.True(first.Effects.WatchReservations);
        Assert.Equal(50, start.Book.Balance); // the input is not changed

        var second = TenantBilling.Admit(first.State, new AdmissionRequest("t", "j2", "seg"), Billing, T0 + 2000);
        Assert.True(second.Result.Admitted);
        Assert.False(second.Effects.WatchReservations); // already registered

        var repeat = TenantBilling.Admit(second.State, new AdmissionRequest("t", "j1", "diffusion"), Billing, T0 + 3000);
        Assert.True(repeat.Result.Repeated);
        Assert.Same(second.State, repeat.State);
        Assert.Empty(repeat.Effects.Ledger);
    }

    [Fact]
    public void RefusalsChangeNothingAndSayWhenToRetry()
    {
        var free = Tenant("free");
        var model = TenantBilling.Admit(free, new AdmissionRequest("t", "j0", "diffusion"), Billing, T0);
        var rate = TenantBilling.Admit(model.State, new AdmissionRequest("t", "j1", "diffusion"), Billing, T0 + 1000);
        Assert.Equal(("rate_limited", 29), (rate.Result.Code, rate.Result.RetryAfterSeconds));
        Assert.Same(model.State, rate.State);
        Assert.Same(TenantEffects.None, rate.Effects);

        var full = free with { JobsToday = 20, Day = T0 / TenantBilling.DayMs };
        var daily = TenantBilling.Admit(full, new AdmissionRequest("t", "j2", "seg"), Billing, T0);
        Assert.Equal("daily_quota_exceeded", daily.Result.Code);
        Assert.Equal(15 * 3600, daily.Result.RetryAfterSeconds); // 09:00 → midnight UTC
        Assert.Same(full, daily.State);

        var broke = free with { Book = free.Book with { Included = 0 } };
        var payment = TenantBilling.Admit(broke, new AdmissionRequest("t", "j3", "seg"), Billing, T0);
        Assert.Equal("payment_required", payment.Result.Code);

        var unknown = TenantBilling.Admit(new TenantRecord(), new AdmissionRequest("nobody", "j4", "seg"), Billing, T0);
        Assert.Equal("unknown_tenant", unknown.Result.Code);
    }

    [Fact]
    public void SettlementChargesSucceededJobsAtTheCacheFactorAndReleasesFailedOnesWithTheirQuota()
    {
        var r = Tenant("premium");
        foreach (var id in new[] { "ok", "hit", "bad", "wait" })
        {
            r = TenantBilling.Admit(r, new AdmissionRequest("t", id, "diffusion"), Billing, T0).State;
        }

        var settled = TenantBilling.Settle(r,
            [("ok", Job("ok", JobStatus.Succeeded)), ("hit", Job("hit", JobStatus.Succeeded, cacheHit: true)), ("bad", Job("bad", JobStatus.Failed)), ("wait", Job("wait", JobStatus.Running))],
            Billing, T0 + 5000);

        Assert.Equal(3, settled.Result);
        Assert.Equal((5_000L - 4 - 2 - 4, 4L), (settled.State.Book.Included, settled.State.Book.ReservedCredits)); // 4 + 2 charged, "wait" holds 4
        Assert.Equal(["wait"], settled.State.Book.Open.Keys);
        Assert.Equal(3, settled.State.JobsToday); // the failed job's count is given back
        Assert.Equal([4L, 2L], settled.Effects.Charges.Select(c => c.Credits));
        Assert.Equal(["settle", "settle", "release"], settled.Effects.Ledger.Select(e => e.Kind));
        Assert.False(settled.Effects.StopWatchingReservations); // the hot path keeps the reminder

        var check = TenantBilling.CheckReservations(settled.State, [("wait", Job("wait", JobStatus.Canceled))], Billing, T0 + 6000);
        Assert.True(check.Effects.StopWatchingReservations);
        Assert.False(check.State.ReservationReminder);
    }

    [Fact]
    public void OverageOfALinkedCustomerIsMeteredToStripeOncePerJob()
    {
        var r = Tenant("starter") with { CustomerId = "cus_1", SubscriptionId = "sub_1", SubscriptionStatus = "active" };
        r = r with { Book = r.Book with { Included = 2 } };
        r = TenantBilling.Admit(r, new AdmissionRequest("t", "big", "diffusion"), Billing, T0).State;
        var settled = TenantBilling.Settle(r, [("big", Job("big", JobStatus.Succeeded, model: "diffusion"))], Billing, T0 + 1000);

        Assert.Equal(2, settled.State.OverageThisPeriod);
        var meter = Assert.Single(settled.Effects.Meters);
        Assert.Equal("meter_big", meter.Id);
        Assert.Contains("\"payload[value]\":\"2\"", meter.Form, StringComparison.Ordinal);
        Assert.Contains("\"payload[stripe_customer_id]\":\"cus_1\"", meter.Form, StringComparison.Ordinal);
    }

    [Fact]
    public void StripeEventsApplyInTheirOwnOrderAndPastDueSchedulesDunning()
    {
        var r = Tenant("free") with { CustomerId = "cus_1" };
        var subscribed = TenantBilling.ApplyStripe(r, new StripeUpdate
        {
            EventId = "evt_1", Type = "customer.subscription.updated", Created = 2_000, SubscriptionId = "sub_1", Status = "active", PlanId = "pro",
        }, false, Billing, T0);
        Assert.Equal(("pro", "plan pro (active)"), (subscribed.State.PlanId, subscribed.Result));
        Assert.Equal("evt_1", Assert.Single(subscribed.Effects.StripeEvents).EventId);

        var stale = TenantBilling.ApplyStripe(subscribed.State, new StripeUpdate
        {
            EventId = "evt_0", Type = "customer.subscription.updated", Created = 1_000, SubscriptionId = "sub_1", Status = "canceled",
        }, false, Billing, T0);
        Assert.Equal(("stale", "pro"), (stale.Result, stale.State.PlanId));

        var pastDue = TenantBilling.ApplyStripe(subscribed.State, new StripeUpdate { EventId = "evt_2", Type = "invoice.payment_failed", Created = 3_000 }, false, Billing, T0);
        Assert.Equal(3_000_000 + (72 * 3_600_000L), pastDue.Effects.DunningDueMs);

        var early = TenantBilling.Dun(pastDue.State, Billing, 3_000_000 + 3_600_000);
        Assert.True(early.Result);
        Assert.Same(pastDue.State, early.State);
        var late = TenantBilling.Dun(pastDue.State, Billing, 3_000_000 + (73 * 3_600_000L));
        Assert.Equal(("free", false), (late.State.PlanId, late.Result));

        var invoice = new StripeUpdate { EventId = "evt_3", Type = "invoice.paid", ObjectId = "in_1", Created = 4_000, PeriodStart = (T0 / 1000) + 86_400, PeriodEnd = (T0 / 1000) + (31 * 86_400) };
        Assert.Equal("invoice:in_1", TenantBilling.CreditKeyOf(invoice));
        var paid = TenantBilling.ApplyStripe(pastDue.State, invoice, false, Billing, T0);
        Assert.Equal(("active", 5_000L), (paid.State.SubscriptionStatus, paid.State.Book.Included));
        var again = TenantBilling.ApplyStripe(paid.State, invoice with { EventId = "evt_4" }, true, Billing, T0);
        Assert.Equal("invoice already credited", again.Result);
        Assert.Empty(again.Effects.Ledger);
    }

    /// <summary>Whatever mix of admissions, settlements, grants and plan changes, the ledger entries
    /// the effects carry sum to the balances: what the grain writes keeps the ledger exact.</summary>
    [Fact]
    public void TheLedgerTheEffectsWriteAlwaysSumsToTheBalances()
    {
        string[] plans = ["free", "starter", "enterprise"];
        JobStatus[] outcomes = [JobStatus.Succeeded, JobStatus.Failed, JobStatus.Canceled, JobStatus.Running, JobStatus.Expired];
        var op = Gen.Choose(0, 99).Two();
        Prop.ForAll(Gen.Elements(plans).ToArbitrary(), op.ArrayOf().ToArbitrary(), (plan, ops) =>
        {
            var start = new TenantRecord
            {
                Name = "t", Created = true, PlanId = plan, Tier = Billing.Plan(plan).Tier, CustomerId = "cus", SubscriptionId = "sub", SubscriptionStatus = "active",
            };
            var first = TenantBilling.Rolled(start, Billing, T0);
            var r = first.State;
            var ledger = new List<LedgerEntry>(first.Effects.Ledger);
            var now = T0;
            var n = 0;
            foreach (var (kind, arg) in ops)
            {
                now += arg * 1000;
                TenantStep<int> Count<T>(TenantStep<T> s) => new(s.State, 0, s.Effects);
                var step = (kind % 5) switch
                {
                    0 or 1 => Count(TenantBilling.Admit(r, new AdmissionRequest("t", $"j{n++}", arg % 2 == 0 ? "diffusion" : "seg"), Billing, now)),
                    2 => TenantBilling.Settle(r, [.. r.Book.Open.Keys.Take(3).Select(id => (id, Job(id, outcomes[(arg + id.Length) % outcomes.Length], cacheHit: arg % 3 == 0)))], Billing, now),
                    3 => Count(TenantBilling.Grant(r, $"grant:{n++}", arg + 1, null, Billing, now)),
                    _ => Count(TenantBilling.SetPlan(r, Billing.Plan(plans[arg % plans.Length]), Billing, now)),
                };
                r = step.State;
                ledger.AddRange(step.Effects.Ledger);
            }

            var (included, purchased) = Sums(ledger);
            return included == r.Book.Included && purchased == r.Book.Purchased && ledger.Select(e => e.Key).Distinct().Count() == ledger.Count;
        }).QuickCheckThrowOnFailure();
    }
}
