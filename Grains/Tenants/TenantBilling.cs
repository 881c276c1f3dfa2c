using System.Globalization;
using System.Text.Json;
using Actors.Grains.Billing;
using Actors.Grains.Jobs;
using Actors.Storage.Billing;

namespace Actors.Grains.Tenants;

/// <summary>A tenant's decisions as pure functions <c>(state, input, now) → (state, answer,
/// effects)</c>: admission (quotas, rate limits, credits), settlement of finished jobs, Stripe
/// events, plan changes and grants. <see cref="TenantGrain"/> does the I/O around them (reads jobs
/// and ledger keys, stores the state, carries out the effects); tests call them directly.</summary>
public static class TenantBilling
{
    public const long DayMs = 86_400_000;

    public static Plan PlanOf(TenantRecord r, BillingOptions billing) => billing.FindPlan(r.PlanId) ?? billing.PlanForTier(r.Tier);

    /// <summary>The record moved to today and to the current period: a new UTC day resets the
    /// daily count; a tenant without a live subscription rolls to the calendar month (with its
    /// plan's included credits); one with a subscription gets new periods from paid invoices.</summary>
    public static TenantStep<bool> Rolled(TenantRecord r, BillingOptions billing, long now)
    {
        if (!r.Created)
        {
            return new(r, false, TenantEffects.None);
        }

        var rolled = false;
        if (r.Day != now / DayMs)
        {
            r = r with { Day = now / DayMs, JobsToday = 0 };
            rolled = true;
        }

        var subscribed = r.SubscriptionId is not null && r.SubscriptionStatus is "active" or "trialing" or "past_due";
        if (r.PeriodEndMs == 0 || (now >= r.PeriodEndMs && !subscribed))
        {
            var at = DateTimeOffset.FromUnixTimeMilliseconds(now);
            var start = new DateTimeOffset(at.Year, at.Month, 1, 0, 0, 0, TimeSpan.Zero);
            var plan = PlanOf(r, billing);
            var (book, entry) = r.Book.SetIncluded($"period:{start.ToUnixTimeMilliseconds()}", plan.IncludedCredits, $"{plan.Id} period {start:yyyy-MM}");
            r = NewPeriod(r, start.ToUnixTimeMilliseconds(), start.AddMonths(1).ToUnixTimeMilliseconds()) with { Book = book };
            return new(r, true, new TenantEffects { Ledger = [entry] });
        }

        return new(r, rolled, TenantEffects.None);
    }

    /// <summary>Admits a job or says why not (unknown tenant, model not in plan, rate limit, daily
    /// or monthly quota, credits): an admitted job holds a reservation of its price.</summary>
    public static TenantStep<Admission> Admit(TenantRecord state, AdmissionRequest request, BillingOptions billing, long now)
    {
        if (!state.Created)
        {
            return new(state, Refused(state, billing, "unknown_tenant", $"tenant {request.TenantId} does not exist", null), TenantEffects.None);
        }

        var plan = PlanOf(state, billing);
        if (state.Book.Open.TryGetValue(request.JobId, out var held) || request.ReservedBefore)
        {
            return new(state, new Admission
            {
                Admitted = true, Repeated = true, Priority = (int)plan.Tier, Watermark = plan.Watermark, MaxWaitSeconds = plan.MaxWaitSeconds,
                Retention = plan.Retention, ReservedCredits = held?.Price ?? 0, ReservedOverage = held?.Overage ?? 0,
            }, TenantEffects.None);
        }

        var (r, _, rolled) = Rolled(state, billing, now);
        var model = request.Model;
        if (!plan.AllowsModel(model))
        {
            return new(state, Refused(state, billing, "model_not_in_plan", $"the {plan.Name} plan does not include the model '{model}'", null), TenantEffects.None);
        }

        // Rate limits: the tenant's bucket and the model's, both must have a token.
        var buckets = new Dictionary<string, TokenBucket>(r.Buckets);
        var rules = new List<(string Key, RateLimitRule Rule)>();
        if (plan.RateLimit is { } tenantRule)
        {
            rules.Add(("tenant", tenantRule));
        }

        if (plan.ModelRateLimits.TryGetValue(model, out var modelRule))
        {
            rules.Add(("model:" + model, modelRule));
        }

        foreach (var (key, rule) in rules)
        {
            buckets[key] = buckets.TryGetValue(key, out var b) ? b.Refilled(rule, now) : TokenBucket.Full(rule, now);
        }

        if (rules.FirstOrDefault(x => !buckets[x.Key].CanTake) is { Key: not null } limited)
        {
            return new(state, Refused(state, billing, "rate_limited",
                $"rate limit: {limited.Rule.Jobs} job(s) per {limited.Rule.PerSeconds:0.#} s{(limited.Key == "tenant" ? "" : " for " + model)} on the {plan.Name} plan",
                rules.Max(x => buckets[x.Key].SecondsUntilToken(x.Rule)), RateStatus(buckets, rules)), TenantEffects.None);
        }

        if (plan.DailyJobs is { } daily && r.JobsToday >= daily)
        {
            var reset = (r.Day + 1) * DayMs;
            return new(state, Refused(state, billing, "daily_quota_exceeded",
                $"the {plan.Name} plan allows {daily} jobs a day; the quota resets at {DateTimeOffset.FromUnixTimeMilliseconds(reset):u}",
                SecondsUntil(reset, now), RateStatus(buckets, rules)), TenantEffects.None);
        }

        if (plan.MonthlyJobs is { } monthly && r.JobsThisPeriod >= monthly)
        {
            return new(state, Refused(state, billing, "monthly_quota_exceeded",
                $"the {plan.Name} plan allows {monthly} jobs a period; the period ends at {DateTimeOffset.FromUnixTimeMilliseconds(r.PeriodEndMs):u}",
                SecondsUntil(r.PeriodEndMs, now), RateStatus(buckets, rules)), TenantEffects.None);
        }

        var price = billing.PriceOf(model);
        if (r.Book.Reserve(request.JobId, price, plan.AllowsOverage(LiveSubscription(r)), now, model) is not { } reserved)
        {
            var why = plan.OverageUsdPerCredit is null
                ? $"the {plan.Name} plan has no overage. Buy credits: POST /v1/billing/checkout"
                : $"the {plan.Name} plan bills what goes past the credits on a Stripe subscription, and this tenant has no active one{(r.SubscriptionStatus is { } status ? $" (it is {status})" : "")}. Subscribe or buy credits: POST /v1/billing/checkout";
            return new(state, Refused(state, billing, "payment_required",
                $"'{model}' costs {price} credit(s) and the balance is {r.Book.Balance}; {why}",
                null, RateStatus(buckets, rules)), TenantEffects.None);
        }

        foreach (var (key, _) in rules)
        {
            buckets[key] = buckets[key].Take();
        }

        var throttled = plan.FairUseJobsPerPeriod is { } fair && r.JobsThisPeriod >= fair;
        var next = r with
        {
            Book = reserved.Book,
            Buckets = buckets,
            JobsToday = r.JobsToday + 1,
            JobsThisPeriod = r.JobsThisPeriod + 1,
            ReservationReminder = true,
        };
        var admission = new Admission
        {
            Admitted = true,
            Priority = throttled ? (int)Tier.Free : (int)plan.Tier,
            Throttled = throttled,
            Watermark = plan.Watermark,
            MaxWaitSeconds = plan.MaxWaitSeconds,
            Retention = plan.Retention,
            ReservedCredits = price,
            ReservedOverage = reserved.Entry.Overage,
            RateLimit = RateStatus(buckets, rules),
        };
        return new(next, admission, rolled.Plus(new TenantEffects { Ledger = [reserved.Entry], WatchReservations = !r.ReservationReminder }));
    }

    /// <summary>Settles or releases the reservations of these jobs from their committed states
    /// (succeeded: charged, a cache hit at the plan's factor, overage metered to Stripe; failed,
    /// canceled or expired: released and their quota given back; others: left open). The result
    /// is how many reservations closed.</summary>
    public static TenantStep<int> Settle(TenantRecord state, IReadOnlyList<(string JobId, JobSnapshot Job)> jobs, BillingOptions billing, long now)
    {
        var (r, _, effects) = Rolled(state, billing, now);
        var closed = 0;
        foreach (var (jobId, job) in jobs)
        {
            if (Finish(r, jobId, job, billing, now) is { } finished)
            {
                r = finished.State;
                effects = effects.Plus(finished.Effects);
                closed++;
            }
        }

        return new(r, closed, effects);
    }

    /// <summary>The reservations reminder's pass: <see cref="Settle"/> every open reservation, and
    /// once none is open the reminder may go (it is not dropped on the hot path, where a busy
    /// tenant's book empties and fills again all the time).</summary>
    public static TenantStep<int> CheckReservations(TenantRecord state, IReadOnlyList<(string JobId, JobSnapshot Job)> jobs, BillingOptions billing, long now)
    {
        var (r, closed, effects) = Settle(state, jobs, billing, now);
        return r.Book.Open.Count == 0
            ? new(r with { ReservationReminder = false }, closed, effects.Plus(new TenantEffects { StopWatchingReservations = true }))
            : new(r, closed, effects);
    }

    /// <summary>The dunning check: a subscription past due beyond the grace moves to the downgrade
    /// plan. The result says whether the check is still needed later.</summary>
    public static TenantStep<bool> Dun(TenantRecord state, BillingOptions billing, long now)
    {
        var graceMs = billing.PastDueGraceHours * 3_600_000L;
        var effects = TenantEffects.None;
        var r = state;
        if (r.SubscriptionStatus == "past_due" && r.PastDueSinceMs is { } since && now >= since + graceMs && r.PlanId != billing.DowngradePlan)
        {
            (r, _, effects) = Rolled(r, billing, now);
            (r, effects) = ChangePlan(r, effects, billing.Plan(billing.DowngradePlan), "past due beyond the grace period", resetIncluded: false);
        }

        var done = r.SubscriptionStatus != "past_due" || r.PlanId == billing.DowngradePlan || (r.PastDueSinceMs is { } pastDue && now >= pastDue + graceMs);
        return new(r, !done, effects);
    }

    /// <summary>Moves the tenant to <paramref name="plan"/> (an operator's choice: its included credits become the plan's).</summary>
    public static TenantStep<bool> SetPlan(TenantRecord state, Plan plan, BillingOptions billing, long now)
    {
        var (r, _, effects) = Rolled(state, billing, now);
        (r, effects) = ChangePlan(r, effects, plan, "set by an operator", resetIncluded: true);
        return new(r, true, effects);
    }

    /// <summary>Grants (or, negative, revokes) credits under ledger key <paramref name="key"/>; the
    /// grain checks the key is new. Throws if a revocation exceeds what is left.</summary>
    public static TenantStep<bool> Grant(TenantRecord state, string key, long credits, string? reason, BillingOptions billing, long now)
    {
        var (r, _, effects) = Rolled(state, billing, now);
        var (book, entry) = r.Book.Grant(key, credits >= 0 ? "grant" : "revoke", credits, reason);
        return new(r with { Book = book }, true, effects.Plus(new TenantEffects { Ledger = [entry] }));
    }

    /// <summary>The ledger key a Stripe event credits under (a credit pack's checkout, a paid
    /// invoice), or null: the grain asks the ledger whether it was credited before.</summary>
    public static string? CreditKeyOf(StripeUpdate u) => u.Type switch
    {
        "checkout.session.completed" or "checkout.session.async_payment_succeeded" when u.PackCredits is not null => "checkout:" + u.ObjectId,
        "invoice.paid" => "invoice:" + u.ObjectId,
        _ => null,
    };

    /// <summary>Applies a Stripe event (not seen before: the grain checks its id) in order of the
    /// events' own times; <paramref name="creditedBefore"/>: the ledger already has its <see cref="CreditKeyOf"/>.
    /// The result says what it did.</summary>
    /// <summary>Outcomes that start with this need an operator (money taken for nothing known).</summary>
    public const string AttentionPrefix = "attention: ";

    public static TenantStep<string> ApplyStripe(TenantRecord state, StripeUpdate u, bool creditedBefore, BillingOptions billing, long now)
    {
        var (r, _, effects) = Rolled(state, billing, now);
        string outcome;
        (r, effects, outcome) = ApplyEvent(r, effects, u, creditedBefore, billing);
        effects = effects.Plus(new TenantEffects { StripeEvents = [new StripeEventLine(u.EventId, u.Type, u.Created, now, outcome)] });
        if (r.SubscriptionStatus == "past_due" && r.PastDueSinceMs is { } since && state.PastDueSinceMs != since)
        {
            effects = effects.Plus(new TenantEffects { DunningDueMs = since + (billing.PastDueGraceHours * 3_600_000L) });
        }

        return new(r, outcome, effects);
    }

    public static UsageSnapshot Usage(string tenantId, TenantRecord r, BillingOptions billing, long now)
    {
        var plan = PlanOf(r, billing);
        return new UsageSnapshot
        {
            TenantId = tenantId,
            PlanId = plan.Id,
            PlanName = plan.Name,
            Throttled = plan.FairUseJobsPerPeriod is { } fair && r.JobsThisPeriod >= fair,
            Priority = plan.FairUseJobsPerPeriod is { } f && r.JobsThisPeriod >= f ? (int)Tier.Free : (int)plan.Tier,
            JobsToday = r.Day == now / DayMs ? r.JobsToday : 0,
            DailyJobs = plan.DailyJobs,
            DayResetsAt = DateTimeOffset.FromUnixTimeMilliseconds(((now / DayMs) + 1) * DayMs),
            JobsThisPeriod = r.JobsThisPeriod,
            MonthlyJobs = plan.MonthlyJobs,
            FairUseJobsPerPeriod = plan.FairUseJobsPerPeriod,
            PeriodStart = DateTimeOffset.FromUnixTimeMilliseconds(r.PeriodStartMs),
            PeriodEnd = DateTimeOffset.FromUnixTimeMilliseconds(r.PeriodEndMs),
            IncludedCredits = r.Book.Included,
            PurchasedCredits = r.Book.Purchased,
            Reservations = r.Book.Open.Count,
            ReservedCredits = r.Book.Open.Values.Sum(x => x.Price),
            OverageThisPeriod = r.OverageThisPeriod,
            OverageTotal = r.OverageSettled,
            OverageAllowed = plan.AllowsOverage(LiveSubscription(r)),
            StripeCustomerId = r.CustomerId,
            SubscriptionId = r.SubscriptionId,
            SubscriptionStatus = r.SubscriptionStatus,
            PastDueSince = r.PastDueSinceMs is { } p ? DateTimeOffset.FromUnixTimeMilliseconds(p) : null,
        };
    }

    /// <summary>Settles or releases one reservation from its job's committed state; null if it stays open.</summary>
    private static TenantStep<bool>? Finish(TenantRecord r, string jobId, JobSnapshot job, BillingOptions billing, long now)
    {
        if (!r.Book.Open.TryGetValue(jobId, out var held))
        {
            return null;
        }

        string? release = job.Status switch
        {
            JobStatus.Expired when job.IsAbandoned => "job never appeared",
            JobStatus.Failed or JobStatus.Canceled or JobStatus.Expired => "job " + job.Status.ToString().ToLowerInvariant(),
            _ => null,
        };
        if (release is not null)
        {
            var (book, entry) = r.Book.Release(jobId, release);
            r = r with
            {
                Book = book,
                JobsToday = held.AtMs / DayMs == r.Day ? Math.Max(0, r.JobsToday - 1) : r.JobsToday,
                JobsThisPeriod = held.AtMs >= r.PeriodStartMs ? Math.Max(0, r.JobsThisPeriod - 1) : r.JobsThisPeriod,
            };
            return new(r, true, new TenantEffects { Ledger = [entry] });
        }

        if (job.Status != JobStatus.Succeeded)
        {
            return null;
        }

        var plan = PlanOf(r, billing);
        var charge = job.Result?.CacheHit == true ? (long)Math.Ceiling(held.Price * plan.CacheHitPriceFactor) : held.Price;
        var (settled, settleEntry, overage) = r.Book.Settle(jobId, charge);
        r = r with { Book = settled, OverageThisPeriod = r.OverageThisPeriod + overage, OverageSettled = r.OverageSettled + overage };
        var effects = new TenantEffects { Ledger = [settleEntry], Charges = [new CreditCharge(charge, plan.Id, job.Model)] };
        if (overage > 0 && plan.OverageUsdPerCredit > 0 && !plan.OverageInvoicedByContract && r.CustomerId is { } customer)
        {
            // Overage goes to Stripe as a meter event; the outbox row commits with the charge,
            // and its id (the meter event's identifier) keeps Stripe from counting it twice.
            effects = effects with
            {
                Meters =
                [
                    new MeterLine("meter_" + jobId, "/v1/billing/meter_events", JsonSerializer.Serialize(new Dictionary<string, string>
                    {
                        ["event_name"] = billing.MeterEventName,
                        ["identifier"] = "meter_" + jobId,
                        ["payload[stripe_customer_id]"] = customer,
                        ["payload[value]"] = overage.ToString(CultureInfo.InvariantCulture),
                        ["timestamp"] = (now / 1000).ToString(CultureInfo.InvariantCulture),
                    }), now),
                ],
            };
        }

        return new(r, true, effects);
    }

    private static (TenantRecord, TenantEffects, string) ApplyEvent(TenantRecord r, TenantEffects effects, StripeUpdate u, bool creditedBefore, BillingOptions billing)
    {
        var stale = u.Created < r.SubscriptionAsOf;
        if (!stale && SubscriptionOrder.Refusal(r.SubscriptionId, r.SubscriptionStatus, u) is { } ignored)
        {
            return (WithCustomer(r, u), effects, ignored);
        }

        switch (u.Type)
        {
            case "checkout.session.completed" or "checkout.session.async_payment_succeeded" when u.PackCredits is { } credits:
            {
                if (u.PaymentStatus != "paid")
                {
                    return (r, effects, $"credit pack not paid yet ({u.PaymentStatus})");
                }

                if (creditedBefore)
                {
                    return (r, effects, "credit pack already credited");
                }

                var (book, entry) = r.Book.Grant(CreditKeyOf(u)!, "pack", credits, u.EventId);
                return (WithCustomer(r, u) with { Book = book }, effects.Plus(new TenantEffects { Ledger = [entry] }), $"credit pack: +{credits} credits");
            }

            // Paid for something this cluster does not sell (a pack or plan removed or misconfigured
            // since the page was made): nothing is granted and no plan or clock moves; the outcome
            // marks it for an operator (GET /admin/billing/stripe-events?attention=true), who
            // refunds it in Stripe or grants the credits by hand.
            case "checkout.session.completed" or "checkout.session.async_payment_succeeded" when u.Mode == "payment":
                return (r, effects, u.PaymentStatus == "paid"
                    ? $"{AttentionPrefix}paid for an unknown credit pack '{u.Named}': nothing credited; refund it in Stripe or grant credits"
                    : $"unknown credit pack '{u.Named}', not paid ({u.PaymentStatus})");

            case "checkout.session.completed" when u.Mode == "subscription" && billing.FindPlan(u.PlanId) is null:
                return (r, effects, $"{AttentionPrefix}subscribed to an unknown plan '{u.Named}': plan unchanged; fix the plan's price or cancel the subscription in Stripe");

            case "checkout.session.completed":
                if (stale)
                {
                    return (WithCustomer(r, u), effects, "stale");
                }

                r = WithCustomer(r, u) with { SubscriptionId = u.SubscriptionId ?? r.SubscriptionId, SubscriptionStatus = "active", SubscriptionAsOf = u.Created };
                if (billing.FindPlan(u.PlanId) is { } bought)
                {
                    (r, effects) = ChangePlan(r, effects, bought, "checkout", resetIncluded: false);
                    return (r, effects, $"subscribed to {bought.Id}");
                }

                return (r, effects, "subscribed (plan unknown)");

            case "customer.subscription.created" or "customer.subscription.updated":
            {
                if (stale)
                {
                    return (r, effects, "stale");
                }

                r = WithCustomer(r, u) with { SubscriptionId = u.SubscriptionId, SubscriptionStatus = u.Status, SubscriptionAsOf = u.Created };
                if (u.Status is "canceled" or "unpaid" or "incomplete_expired")
                {
                    (r, effects) = ChangePlan(r, effects, billing.Plan(billing.DowngradePlan), "subscription " + u.Status, resetIncluded: false);
                    return (r with { PastDueSinceMs = null }, effects, "subscription ended: " + billing.DowngradePlan);
                }

                r = u.Status == "past_due" ? r with { PastDueSinceMs = r.PastDueSinceMs ?? u.Created * 1000 } : r with { PastDueSinceMs = null };
                if (billing.FindPlan(u.PlanId) is { } plan && u.Status is "active" or "trialing" or "past_due")
                {
                    (r, effects) = ChangePlan(r, effects, plan, "subscription " + u.Status, resetIncluded: false);
                    return (r, effects, $"plan {plan.Id} ({u.Status})");
                }

                return (r, effects, $"subscription {u.Status}");
            }

            case "customer.subscription.deleted":
                if (stale)
                {
                    return (r, effects, "stale");
                }

                r = r with { SubscriptionId = u.SubscriptionId, SubscriptionStatus = "canceled", SubscriptionAsOf = u.Created, PastDueSinceMs = null };
                (r, effects) = ChangePlan(r, effects, billing.Plan(billing.DowngradePlan), "subscription deleted", resetIncluded: false);
                return (r, effects, "subscription deleted: " + billing.DowngradePlan);

            case "invoice.paid":
            {
                if (creditedBefore)
                {
                    return (r, effects, "invoice already credited");
                }

                r = WithCustomer(r, u);
                if (r.SubscriptionStatus == "past_due" && !stale)
                {
                    r = r with { SubscriptionStatus = "active", PastDueSinceMs = null };
                }

                if (u.PeriodStart is not { } start || u.PeriodEnd is not { } end || start * 1000 <= r.PeriodStartMs)
                {
                    return (r, effects, "invoice paid (period already current)");
                }

                var plan = billing.FindPlan(u.PlanId) ?? PlanOf(r, billing);
                var (book, entry) = r.Book.SetIncluded(CreditKeyOf(u)!, plan.IncludedCredits, $"{plan.Id} period from invoice {u.ObjectId}");
                r = NewPeriod(r, start * 1000, end * 1000) with { Book = book };
                return (r, effects.Plus(new TenantEffects { Ledger = [entry] }), $"new period: {plan.IncludedCredits} included credits");
            }

            case "invoice.payment_failed":
                if (stale)
                {
                    return (r, effects, "stale");
                }

                return (WithCustomer(r, u) with { SubscriptionStatus = "past_due", PastDueSinceMs = r.PastDueSinceMs ?? u.Created * 1000 }, effects, "past due");

            default:
                return (r, effects, "ignored");
        }
    }

    private static TenantRecord WithCustomer(TenantRecord r, StripeUpdate u) => r.CustomerId is null && u.CustomerId is not null ? r with { CustomerId = u.CustomerId } : r;

    private static (TenantRecord, TenantEffects) ChangePlan(TenantRecord r, TenantEffects effects, Plan plan, string why, bool resetIncluded)
    {
        var changes = r.PlanChanges + 1;
        r = r with { PlanId = plan.Id, Tier = plan.Tier, PlanChanges = changes };
        var included = resetIncluded ? plan.IncludedCredits : Math.Min(r.Book.Included, plan.IncludedCredits);
        if (included == r.Book.Included)
        {
            return (r, effects);
        }

        var (book, entry) = r.Book.SetIncluded($"plan:{changes}:{plan.Id}", included, why);
        return (r with { Book = book }, effects.Plus(new TenantEffects { Ledger = [entry] }));
    }

    /// <summary>A Stripe subscription that bills this period's meter events (past_due is in its
    /// grace, and no longer counts for new overage).</summary>
    private static bool LiveSubscription(TenantRecord r) => r.SubscriptionId is not null && r.SubscriptionStatus is "active" or "trialing";

    private static TenantRecord NewPeriod(TenantRecord r, long startMs, long endMs) =>
        r with { PeriodStartMs = startMs, PeriodEndMs = endMs, JobsThisPeriod = 0, OverageThisPeriod = 0 };

    private static Admission Refused(TenantRecord r, BillingOptions billing, string code, string detail, int? retryAfter, RateLimitStatus? rate = null) =>
        new() { Admitted = false, Code = code, Detail = detail, RetryAfterSeconds = retryAfter, RateLimit = rate, Priority = (int)PlanOf(r, billing).Tier };

    private static RateLimitStatus? RateStatus(Dictionary<string, TokenBucket> buckets, List<(string Key, RateLimitRule Rule)> rules) =>
        rules.Count == 0 ? null : rules.Select(x => buckets[x.Key].Status(x.Rule)).MinBy(s => s.Remaining);

    private static int SecondsUntil(long atMs, long nowMs) => (int)Math.Max(1, Math.Ceiling((atMs - nowMs) / 1000.0));
}
