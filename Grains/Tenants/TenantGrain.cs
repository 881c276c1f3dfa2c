using Actors.Grains.Billing;
using Actors.Grains.Jobs;

namespace Actors.Grains.Tenants;

/// <summary>A tenant: keys, plan, admission and credits. Every credit movement is a ledger row
/// that goes into this state's outbox (<see cref="TenantOutbox"/>) with the balances it changes,
/// in one storage write, and is inserted into the ledger right after it (again on the next
/// activation if the silo died in between), so the ledger's sums equal the balances here; ledger
/// keys (job, Stripe object, grant id) make each movement happen at most once.</summary>
public sealed partial class TenantGrain([PersistentState("tenant")] IPersistentState<TenantRecord> state, BillingOptions billing, CreditLedger ledger, TimeProvider time)
    : Grain, ITenantGrain
{
    internal const string ReservationsReminder = "reservations";
    internal const string DunningReminder = "dunning";
    private const long DayMs = 86_400_000;

    private TenantOutbox _staged = TenantOutbox.Empty;
    private List<Action> _afterWrite = [];

    private TenantRecord S => state.State;

    private string GrainKey => this.GetPrimaryKeyString();

    /// <summary>Rows a silo died before inserting go in before anything else happens.</summary>
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (!S.Outbox.IsEmpty)
        {
            await ledger.ApplyAsync(GrainKey, S.Outbox);
            state.State = S with { Outbox = TenantOutbox.Empty };
            await SaveAsync();
        }
    }

    private Plan CurrentPlan => PlanOf(S);

    public async Task<TenantSnapshot> CreateAsync(string name, Tier tier)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (S.Created)
        {
            if (S.Name == name && S.Tier == tier)
            {
                return Snapshot(); // a retried create
            }

            throw new InvalidOperationException($"tenant {GrainKey} already exists");
        }

        var plan = billing.PlanForTier(tier);
        state.State = S with
        {
            Name = name,
            Tier = plan.Tier,
            PlanId = plan.Id,
            Created = true,
            WebhookSecret = "whsec_" + Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24)),
        };
        Commit(Rolled(Now));
        await SaveAsync();
        return Snapshot();
    }

    public async Task<TenantSnapshot> SetTierAsync(Tier tier)
    {
        RequireCreated();
        if (!Enum.IsDefined(tier))
        {
            throw new ArgumentOutOfRangeException(nameof(tier), tier, "unknown tier");
        }

        await SetPlanAsync(billing.PlanForTier(tier).Id);
        return Snapshot();
    }

    public async Task<IssuedApiKey> IssueApiKeyAsync()
    {
        RequireCreated();
        var issued = ApiKeyFormat.NewKey();
        // The index first (a separate turn): if this turn then fails, the index entry points
        // at a tenant that holds no hash for it, and the key opens nothing.
        await GrainFactory.GetGrain<IApiKeyIndexGrain>(issued.KeyId).SetTenantAsync(GrainKey);
        state.State = S with
        {
            KeyHashes = new Dictionary<string, string>(S.KeyHashes) { [issued.KeyId] = ApiKeyFormat.Hash(issued.Key) },
        };
        await SaveAsync();
        return issued;
    }

    public async Task<bool> RevokeApiKeyAsync(string keyId)
    {
        if (!S.KeyHashes.ContainsKey(keyId))
        {
            return false;
        }

        var keys = new Dictionary<string, string>(S.KeyHashes);
        keys.Remove(keyId);
        state.State = S with { KeyHashes = keys };
        await SaveAsync();
        return true;
    }

    public Task<bool> AuthenticateAsync(string key) =>
        Task.FromResult(ApiKeyFormat.KeyIdOf(key) is { } id && S.KeyHashes.TryGetValue(id, out var hash) && ApiKeyFormat.Matches(key, hash));

    public Task<TenantSnapshot> GetAsync() => Task.FromResult(Snapshot());

    public Task<string?> GetWebhookSecretAsync() => Task.FromResult(S.WebhookSecret);

    public async Task<Admission> AdmitAsync(string jobId, string model, bool mayRepeat)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(jobId);
        if (!S.Created)
        {
            return Refused("unknown_tenant", $"tenant {GrainKey} does not exist", null);
        }

        var plan = CurrentPlan;
        if (S.Book.Open.TryGetValue(jobId, out var held) || (mayRepeat && await HasLedgerKeyAsync("reserve:" + jobId)))
        {
            return new Admission
            {
                Admitted = true, Repeated = true, Priority = (int)plan.Tier, Watermark = plan.Watermark, MaxWaitSeconds = plan.MaxWaitSeconds,
                ReservedCredits = held?.Price ?? 0, ReservedOverage = held?.Overage ?? 0,
            };
        }

        var now = Now;
        var (r, entries) = Rolled(now);
        if (!plan.AllowsModel(model))
        {
            return Refused("model_not_in_plan", $"the {plan.Name} plan does not include the model '{model}'", null);
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
            return Refused("rate_limited",
                $"rate limit: {limited.Rule.Jobs} job(s) per {limited.Rule.PerSeconds:0.#} s{(limited.Key == "tenant" ? "" : " for " + model)} on the {plan.Name} plan",
                rules.Max(x => buckets[x.Key].SecondsUntilToken(x.Rule)), RateStatus(buckets, rules));
        }

        if (plan.DailyJobs is { } daily && r.JobsToday >= daily)
        {
            var reset = (r.Day + 1) * DayMs;
            return Refused("daily_quota_exceeded", $"the {plan.Name} plan allows {daily} jobs a day; the quota resets at {DateTimeOffset.FromUnixTimeMilliseconds(reset):u}",
                SecondsUntil(reset, now), RateStatus(buckets, rules));
        }

        if (plan.MonthlyJobs is { } monthly && r.JobsThisPeriod >= monthly)
        {
            return Refused("monthly_quota_exceeded", $"the {plan.Name} plan allows {monthly} jobs a period; the period ends at {DateTimeOffset.FromUnixTimeMilliseconds(r.PeriodEndMs):u}",
                SecondsUntil(r.PeriodEndMs, now), RateStatus(buckets, rules));
        }

        var price = billing.PriceOf(model);
        if (r.Book.Reserve(jobId, price, plan.OverageUsdPerCredit is not null, now, model) is not { } reserved)
        {
            return Refused("payment_required",
                $"'{model}' costs {price} credit(s) and the balance is {r.Book.Balance}; the {plan.Name} plan has no overage. Buy credits: POST /v1/billing/checkout",
                null, RateStatus(buckets, rules));
        }

        foreach (var (key, _) in rules)
        {
            buckets[key] = buckets[key].Take();
        }

        var throttled = plan.FairUseJobsPerPeriod is { } fair && r.JobsThisPeriod >= fair;
        entries.Add(reserved.Entry);
        state.State = r with
        {
            Book = reserved.Book,
            Buckets = buckets,
            JobsToday = r.JobsToday + 1,
            JobsThisPeriod = r.JobsThisPeriod + 1,
            ReservationReminder = true,
        };
        Commit((state.State, entries));
        await SaveAsync();
        if (!r.ReservationReminder)
        {
            var every = TimeSpan.FromSeconds(billing.ReservationCheckSeconds);
            await this.RegisterOrUpdateReminder(ReservationsReminder, every, every);
        }

        return new Admission
        {
            Admitted = true,
            Priority = throttled ? (int)Tier.Free : (int)plan.Tier,
            Throttled = throttled,
            Watermark = plan.Watermark,
            MaxWaitSeconds = plan.MaxWaitSeconds,
            ReservedCredits = price,
            ReservedOverage = reserved.Entry.Overage,
            RateLimit = RateStatus(buckets, rules),
        };
    }

    public async Task<bool> FinishJobAsync(string jobId) => await FinishJobsAsync([jobId]) == 1;

    public async Task<int> FinishJobsAsync(IReadOnlyList<string> jobIds)
    {
        var open = jobIds.Distinct(StringComparer.Ordinal).Where(S.Book.Open.ContainsKey).ToList();
        if (open.Count == 0)
        {
            return 0;
        }

        var jobs = await ReadJobsAsync(open);
        var now = Now;
        await AbandonNeverArrivedAsync(open, jobs, now);
        var (r, entries) = Rolled(now);
        var finished = 0;
        for (var i = 0; i < open.Count; i++)
        {
            finished += Finish(ref r, entries, open[i], jobs[i], now) ? 1 : 0;
        }

        if (finished > 0)
        {
            Commit((r, entries));
            await SaveAsync();
        }

        return finished;
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        var name = reminderName;
        Hosting.ReminderLag.Record(status, name, time);
        var now = Now;
        if (name == ReservationsReminder)
        {
            var (r, entries) = Rolled(now);
            var ids = r.Book.Open.Keys.ToList();
            var jobs = await ReadJobsAsync(ids);
            await AbandonNeverArrivedAsync(ids, jobs, now);
            for (var i = 0; i < ids.Count; i++)
            {
                Finish(ref r, entries, ids[i], jobs[i], now);
            }

            if (r.Book.Open.Count == 0)
            {
                await UnregisterAsync(ReservationsReminder);
                r = r with { ReservationReminder = false };
            }

            Commit((r, entries));
            state.State = r;
            await SaveAsync();
        }
        else if (name == DunningReminder)
        {
            // One-shot: Orleans reminders repeat, so it goes once it has been handled.
            if (S.SubscriptionStatus == "past_due" && S.PastDueSinceMs is { } since
                && now >= since + (billing.PastDueGraceHours * 3_600_000L) && S.PlanId != billing.DowngradePlan)
            {
                var (r, entries) = Rolled(now);
                r = ChangePlan(r, entries, billing.Plan(billing.DowngradePlan), "past due beyond the grace period", resetIncluded: false);
                Commit((r, entries));
                state.State = r;
                await SaveAsync();
            }

            if (S.SubscriptionStatus != "past_due" || S.PlanId == billing.DowngradePlan
                || (S.PastDueSinceMs is { } pastDue && now >= pastDue + (billing.PastDueGraceHours * 3_600_000L)))
            {
                await UnregisterAsync(DunningReminder);
            }
        }
    }

    public async Task<UsageSnapshot> SetPlanAsync(string planId)
    {
        RequireCreated();
        var plan = billing.FindPlan(planId) ?? throw new ArgumentException($"no plan '{planId}'", nameof(planId));
        var (r, entries) = Rolled(Now);
        r = ChangePlan(r, entries, plan, "set by an operator", resetIncluded: true);
        Commit((r, entries));
        state.State = r;
        await SaveAsync();
        return Usage(r, Now);
    }

    public async Task<UsageSnapshot> GrantCreditsAsync(string grantId, long credits, string? reason)
    {
        RequireCreated();
        ArgumentException.ThrowIfNullOrWhiteSpace(grantId);
        var key = (credits >= 0 ? "grant:" : "revoke:") + grantId;
        if (await HasLedgerKeyAsync(key))
        {
            return Usage(S, Now); // the same grant again
        }

        var (r, entries) = Rolled(Now);
        var (book, entry) = r.Book.Grant(key, credits >= 0 ? "grant" : "revoke", credits, reason);
        entries.Add(entry);
        r = r with { Book = book };
        Commit((r, entries));
        state.State = r;
        await SaveAsync();
        return Usage(r, Now);
    }

    public async Task<string> LinkStripeCustomerAsync(string customerId)
    {
        RequireCreated();
        if (S.CustomerId is { } existing)
        {
            return existing;
        }

        state.State = S with { CustomerId = customerId };
        Stage(new TenantOutbox { Customers = [customerId] });
        await SaveAsync();
        return customerId;
    }

    public async Task<string> ApplyStripeAsync(StripeUpdate update)
    {
        ArgumentNullException.ThrowIfNull(update);
        if (S.Outbox.HasEvent(update.EventId) || _staged.HasEvent(update.EventId) || await ledger.EventSeenAsync(update.EventId))
        {
            return "duplicate";
        }

        var now = Now;
        var pastDueBefore = S.PastDueSinceMs;
        var (r, entries) = Rolled(now);
        string outcome;
        (r, outcome) = await ApplyAsync(r, entries, update, now);
        Commit((r, entries));
        Stage(new TenantOutbox { Events = [new StripeEventLine(update.EventId, update.Type, update.Created, now, outcome)] });
        state.State = r;
        await SaveAsync();
        if (r.SubscriptionStatus == "past_due" && r.PastDueSinceMs is { } since && pastDueBefore != since)
        {
            var due = DateTimeOffset.FromUnixTimeMilliseconds(since + (billing.PastDueGraceHours * 3_600_000L)) - time.GetUtcNow();
            await this.RegisterOrUpdateReminder(DunningReminder, due > TimeSpan.Zero ? due : TimeSpan.Zero, TimeSpan.FromHours(1));
        }

        return outcome;
    }

    public Task<UsageSnapshot> GetUsageAsync() => Task.FromResult(Usage(Rolled(Now).Record, Now));

    private async Task<(TenantRecord, string)> ApplyAsync(TenantRecord r, List<LedgerEntry> entries, StripeUpdate u, long now)
    {
        var stale = u.Created < r.SubscriptionAsOf;
        var canceledAlready = u.SubscriptionId is not null && u.SubscriptionId == r.SubscriptionId && r.SubscriptionStatus == "canceled";
        switch (u.Type)
        {
            case "checkout.session.completed" or "checkout.session.async_payment_succeeded" when u.PackCredits is { } credits:
            {
                if (u.PaymentStatus != "paid")
                {
                    return (r, $"credit pack not paid yet ({u.PaymentStatus})");
                }

                var key = "checkout:" + u.ObjectId;
                if (await HasLedgerKeyAsync(key))
                {
                    return (r, "credit pack already credited");
                }

                var (book, entry) = r.Book.Grant(key, "pack", credits, u.EventId);
                entries.Add(entry);
                return (WithCustomer(r, u) with { Book = book }, $"credit pack: +{credits} credits");
            }

            case "checkout.session.completed":
                if (stale || canceledAlready)
                {
                    return (WithCustomer(r, u), "stale");
                }

                r = WithCustomer(r, u) with { SubscriptionId = u.SubscriptionId ?? r.SubscriptionId, SubscriptionStatus = "active", SubscriptionAsOf = u.Created };
                return billing.FindPlan(u.PlanId) is { } bought
                    ? (ChangePlan(r, entries, bought, "checkout", resetIncluded: false), $"subscribed to {bought.Id}")
                    : (r, "subscribed (plan unknown)");

            case "customer.subscription.created" or "customer.subscription.updated":
            {
                if (stale || canceledAlready)
                {
                    return (r, "stale");
                }

                r = WithCustomer(r, u) with { SubscriptionId = u.SubscriptionId, SubscriptionStatus = u.Status, SubscriptionAsOf = u.Created };
                if (u.Status is "canceled" or "unpaid" or "incomplete_expired")
                {
                    return (ChangePlan(r, entries, billing.Plan(billing.DowngradePlan), "subscription " + u.Status, resetIncluded: false) with { PastDueSinceMs = null },
                        "subscription ended: " + billing.DowngradePlan);
                }

                r = u.Status == "past_due" ? r with { PastDueSinceMs = r.PastDueSinceMs ?? u.Created * 1000 } : r with { PastDueSinceMs = null };
                return billing.FindPlan(u.PlanId) is { } plan && u.Status is "active" or "trialing" or "past_due"
                    ? (ChangePlan(r, entries, plan, "subscription " + u.Status, resetIncluded: false), $"plan {plan.Id} ({u.Status})")
                    : (r, $"subscription {u.Status}");
            }

            case "customer.subscription.deleted":
                if (stale)
                {
                    return (r, "stale");
                }

                r = r with { SubscriptionId = u.SubscriptionId, SubscriptionStatus = "canceled", SubscriptionAsOf = u.Created, PastDueSinceMs = null };
                return (ChangePlan(r, entries, billing.Plan(billing.DowngradePlan), "subscription deleted", resetIncluded: false), "subscription deleted: " + billing.DowngradePlan);

            case "invoice.paid":
            {
                var key = "invoice:" + u.ObjectId;
                if (await HasLedgerKeyAsync(key))
                {
                    return (r, "invoice already credited");
                }

                r = WithCustomer(r, u);
                if (r.SubscriptionStatus == "past_due" && !stale)
                {
                    r = r with { SubscriptionStatus = "active", PastDueSinceMs = null };
                }

                if (u.PeriodStart is not { } start || u.PeriodEnd is not { } end || start * 1000 <= r.PeriodStartMs)
                {
                    return (r, "invoice paid (period already current)");
                }

                var plan = billing.FindPlan(u.PlanId) ?? PlanOf(r);
                var (book, entry) = r.Book.SetIncluded(key, plan.IncludedCredits, $"{plan.Id} period from invoice {u.ObjectId}");
                entries.Add(entry);
                r = NewPeriod(r, start * 1000, end * 1000) with { Book = book };
                return (r, $"new period: {plan.IncludedCredits} included credits");
            }

            case "invoice.payment_failed":
                if (stale || canceledAlready)
                {
                    return (r, "stale");
                }

                return (WithCustomer(r, u) with { SubscriptionStatus = "past_due", PastDueSinceMs = r.PastDueSinceMs ?? u.Created * 1000 }, "past due");

            default:
                return (r, "ignored");
        }
    }

    /// <summary>The jobs' committed states ([ReadOnly] reads), 16 at a time, from this activation's
    /// own context (grain calls may not be made from thread-pool threads).</summary>
    private async Task<JobSnapshot[]> ReadJobsAsync(List<string> ids)
    {
        var jobs = new List<JobSnapshot>(ids.Count);
        foreach (var chunk in ids.Chunk(16))
        {
            jobs.AddRange(await Task.WhenAll(chunk.Select(id => GrainFactory.GetGrain<IJobGrain>(id).GetAsync())));
        }

        return [.. jobs];
    }

    /// <summary>A job still New past the grace never reached its grain (the submission was lost
    /// after admission). It is closed there first — so neither a late nor a repeated submission can
    /// run it unpaid — and only then is its reservation released. One that arrived meanwhile comes
    /// back as it is and is settled the usual way.</summary>
    private async Task AbandonNeverArrivedAsync(List<string> ids, JobSnapshot[] jobs, long now)
    {
        for (var i = 0; i < ids.Count; i++)
        {
            if (jobs[i].Status == JobStatus.New && S.Book.Open.TryGetValue(ids[i], out var held) && now - held.AtMs >= billing.ReservationGraceSeconds * 1000L)
            {
                jobs[i] = await GrainFactory.GetGrain<IJobGrain>(ids[i]).AbandonAsync(
                    $"the submission never arrived after admission; its {held.Price} credits were given back (submit again with a new Idempotency-Key)");
            }
        }
    }

    private static TenantRecord WithCustomer(TenantRecord r, StripeUpdate u) => r.CustomerId is null && u.CustomerId is not null ? r with { CustomerId = u.CustomerId } : r;

    /// <summary>Settles or releases one reservation from its job's committed state.</summary>
    private bool Finish(ref TenantRecord r, List<LedgerEntry> entries, string jobId, JobSnapshot job, long now)
    {
        if (!r.Book.Open.TryGetValue(jobId, out var held))
        {
            return false;
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
            entries.Add(entry);
            r = r with
            {
                Book = book,
                JobsToday = held.AtMs / DayMs == r.Day ? Math.Max(0, r.JobsToday - 1) : r.JobsToday,
                JobsThisPeriod = held.AtMs >= r.PeriodStartMs ? Math.Max(0, r.JobsThisPeriod - 1) : r.JobsThisPeriod,
            };
            return true;
        }

        if (job.Status != JobStatus.Succeeded)
        {
            return false;
        }

        var plan = PlanOf(r);
        var charge = job.Result?.CacheHit == true ? (long)Math.Ceiling(held.Price * plan.CacheHitPriceFactor) : held.Price;
        var (settled, settleEntry, overage) = r.Book.Settle(jobId, charge);
        entries.Add(settleEntry);
        var planId = plan.Id;
        var model = job.Model;
        _afterWrite.Add(() => Actors.Storage.Diagnostics.ActorsMetrics.CreditsConsumed.Add(charge,
            new KeyValuePair<string, object?>("plan", planId), new KeyValuePair<string, object?>("model", model)));
        r = r with { Book = settled, OverageThisPeriod = r.OverageThisPeriod + overage, OverageSettled = r.OverageSettled + overage };
        if (overage > 0 && plan.OverageUsdPerCredit > 0 && r.CustomerId is { } customer)
        {
            // Overage goes to Stripe as a meter event; the outbox row commits with the charge,
            // and its id (the meter event's identifier) keeps Stripe from counting it twice.
            Stage(new TenantOutbox
            {
                Meters =
                [
                    new MeterLine("meter_" + jobId, "/v1/billing/meter_events", System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, string>
                    {
                        ["event_name"] = billing.MeterEventName,
                        ["identifier"] = "meter_" + jobId,
                        ["payload[stripe_customer_id]"] = customer,
                        ["payload[value]"] = overage.ToString(System.Globalization.CultureInfo.InvariantCulture),
                        ["timestamp"] = (now / 1000).ToString(System.Globalization.CultureInfo.InvariantCulture),
                    }), now),
                ],
            });
        }

        return true;
    }

    private static TenantRecord ChangePlan(TenantRecord r, List<LedgerEntry> entries, Plan plan, string why, bool resetIncluded)
    {
        var changes = r.PlanChanges + 1;
        r = r with { PlanId = plan.Id, Tier = plan.Tier, PlanChanges = changes };
        var included = resetIncluded ? plan.IncludedCredits : Math.Min(r.Book.Included, plan.IncludedCredits);
        if (included != r.Book.Included)
        {
            var (book, entry) = r.Book.SetIncluded($"plan:{changes}:{plan.Id}", included, why);
            entries.Add(entry);
            r = r with { Book = book };
        }

        return r;
    }

    /// <summary>The record moved to today and to the current period: a new UTC day resets the
    /// daily count; a tenant without a live subscription rolls to the calendar month (with its
    /// plan's included credits); one with a subscription gets new periods from paid invoices.</summary>
    private (TenantRecord Record, List<LedgerEntry> Entries) Rolled(long now)
    {
        var r = S;
        var entries = new List<LedgerEntry>();
        if (!r.Created)
        {
            return (r, entries);
        }

        if (r.Day != now / DayMs)
        {
            r = r with { Day = now / DayMs, JobsToday = 0 };
        }

        var subscribed = r.SubscriptionId is not null && r.SubscriptionStatus is "active" or "trialing" or "past_due";
        if (r.PeriodEndMs == 0 || (now >= r.PeriodEndMs && !subscribed))
        {
            var at = DateTimeOffset.FromUnixTimeMilliseconds(now);
            var start = new DateTimeOffset(at.Year, at.Month, 1, 0, 0, 0, TimeSpan.Zero);
            var plan = PlanOf(r);
            var (book, entry) = r.Book.SetIncluded($"period:{start.ToUnixTimeMilliseconds()}", plan.IncludedCredits, $"{plan.Id} period {start:yyyy-MM}");
            entries.Add(entry);
            r = NewPeriod(r, start.ToUnixTimeMilliseconds(), start.AddMonths(1).ToUnixTimeMilliseconds()) with { Book = book };
        }

        return (r, entries);
    }

    private static TenantRecord NewPeriod(TenantRecord r, long startMs, long endMs) =>
        r with { PeriodStartMs = startMs, PeriodEndMs = endMs, JobsThisPeriod = 0, OverageThisPeriod = 0 };

    private void Commit((TenantRecord Record, List<LedgerEntry> Entries) change)
    {
        var now = Now;
        Stage(new TenantOutbox { Ledger = [.. change.Entries.Select(e => new LedgerLine(e, now))] });
        state.State = change.Record;
    }

    private void Stage(TenantOutbox rows) => _staged = _staged.Plus(rows);

    /// <summary>Writes the state with the rows staged in this call in its outbox, then inserts
    /// them and forgets them (the emptied outbox is stored with the next write).</summary>
    private async Task SaveAsync()
    {
        var staged = _staged;
        var effects = _afterWrite;
        _staged = TenantOutbox.Empty;
        _afterWrite = [];
        state.State = S with { Outbox = S.Outbox.Plus(staged) };
        await state.WriteStateAsync();
        await ledger.ApplyAsync(GrainKey, S.Outbox);
        state.State = S with { Outbox = TenantOutbox.Empty };
        foreach (var effect in effects)
        {
            effect();
        }
    }

    private async Task<bool> HasLedgerKeyAsync(string key) =>
        S.Outbox.HasLedgerKey(key) || _staged.HasLedgerKey(key) || await ledger.HasAsync(GrainKey, key);

    private async Task UnregisterAsync(string name)
    {
        if (await this.GetReminder(name) is { } reminder)
        {
            await this.UnregisterReminder(reminder);
        }
    }

    private Plan PlanOf(TenantRecord r) => billing.FindPlan(r.PlanId) ?? billing.PlanForTier(r.Tier);

    private UsageSnapshot Usage(TenantRecord r, long now)
    {
        var plan = PlanOf(r);
        return new UsageSnapshot
        {
            TenantId = GrainKey,
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
            OverageAllowed = plan.OverageUsdPerCredit is not null,
            StripeCustomerId = r.CustomerId,
            SubscriptionId = r.SubscriptionId,
            SubscriptionStatus = r.SubscriptionStatus,
            PastDueSince = r.PastDueSinceMs is { } p ? DateTimeOffset.FromUnixTimeMilliseconds(p) : null,
        };
    }

    private Admission Refused(string code, string detail, int? retryAfter, RateLimitStatus? rate = null) =>
        new() { Admitted = false, Code = code, Detail = detail, RetryAfterSeconds = retryAfter, RateLimit = rate, Priority = (int)CurrentPlan.Tier };

    private static RateLimitStatus? RateStatus(Dictionary<string, TokenBucket> buckets, List<(string Key, RateLimitRule Rule)> rules) =>
        rules.Count == 0 ? null : rules.Select(x => buckets[x.Key].Status(x.Rule)).MinBy(s => s.Remaining);

    private static int SecondsUntil(long atMs, long nowMs) => (int)Math.Max(1, Math.Ceiling((atMs - nowMs) / 1000.0));

    private long Now => time.GetUtcNow().ToUnixTimeMilliseconds();

    private TenantSnapshot Snapshot() =>
        new(GrainKey, S.Name, S.Tier, S.Created, S.KeyHashes.Keys.Order(StringComparer.Ordinal).ToList(), S.Created ? CurrentPlan.Id : "");

    private void RequireCreated()
    {
        if (!S.Created)
        {
            throw new InvalidOperationException($"tenant {GrainKey} does not exist");
        }
    }
}
