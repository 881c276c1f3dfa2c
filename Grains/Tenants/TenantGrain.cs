using Actors.Grains.Billing;
using Actors.Grains.Diagnostics;
using Actors.Grains.Jobs;
using Actors.Storage.Billing;

namespace Actors.Grains.Tenants;

/// <summary>A tenant: keys, plan, admission and credits. Every credit movement is a ledger row
/// that goes into this state's outbox (<see cref="TenantOutbox"/>) with the balances it changes,
/// in one storage write, and is inserted into the ledger right after it (again on the next
/// activation if the silo died in between), so the ledger's sums equal the balances here; ledger
/// keys (job, Stripe object, grant id) make each movement happen at most once. The decisions are
/// <see cref="TenantBilling"/>'s pure functions; this grain reads what they need (jobs' states,
/// ledger keys), stores what they return and carries out their effects.</summary>
public sealed partial class TenantGrain([PersistentState("tenant")] IPersistentState<TenantRecord> state, BillingOptions billing, CreditLedger ledger, TimeProvider time)
    : Grain, ITenantGrain
{
    internal const string ReservationsReminder = ReservationsReminderName;

    /// <summary>The reminder a tenant holds while it has open reservations (a restart wakes its holders).</summary>
    public const string ReservationsReminderName = "reservations";
    internal const string DunningReminder = "dunning";

    private TaskCompletionSource? _nextWrite;
    private bool _writing;

    private TenantRecord S => state.State;

    private string GrainKey => this.GetPrimaryKeyString();

    /// <summary>Rows a silo died before inserting go in before anything else happens. Open
    /// reservations are checked a second after activation (a restart, or a move off a dead silo):
    /// a job that finished while no silo held this tenant is settled then, not at the next
    /// reminder; and a job stored as queued whose queue row the same death may have lost is put
    /// back in the queue then (idempotent), not a minute later by housekeeping.</summary>
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (!S.Outbox.IsEmpty)
        {
            await ledger.ApplyAsync(GrainKey, S.Outbox);
            state.State = S with { Outbox = TenantOutbox.Empty };
            await DurableAsync();
        }

        if (S.Book.Open.Count > 0)
        {
            this.RegisterGrainTimer(RecoverReservationsAsync, new GrainTimerCreationOptions(TimeSpan.FromSeconds(1), Timeout.InfiniteTimeSpan));
        }
    }

    private Task RecoverReservationsAsync(CancellationToken cancellationToken) => CheckReservationsAsync(cancellationToken, requeue: true);

    private async Task CheckReservationsAsync(CancellationToken cancellationToken, bool requeue = false)
    {
        var jobs = await ReadJobsAsync([.. S.Book.Open.Keys], requeue);
        await CommitAsync(TenantBilling.CheckReservations(S, jobs, billing, Now));
    }

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
        await CommitAsync(TenantBilling.Rolled(S, billing, Now));
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
        await DurableAsync();
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
        await DurableAsync();
        return true;
    }

    public Task<bool> AuthenticateAsync(string key) =>
        Task.FromResult(ApiKeyFormat.KeyIdOf(key) is { } id && S.KeyHashes.TryGetValue(id, out var hash) && ApiKeyFormat.Matches(key, hash));

    public Task<TenantSnapshot> GetAsync() => Task.FromResult(Snapshot());

    public Task<string?> GetWebhookSecretAsync() => Task.FromResult(S.WebhookSecret);

    public async Task<Admission> AdmitAsync(string jobId, string model, bool mayRepeat)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(jobId);
        var reservedBefore = S.Created && mayRepeat && !S.Book.Open.ContainsKey(jobId) && await HasLedgerKeyAsync("reserve:" + jobId);
        var step = TenantBilling.Admit(S, new AdmissionRequest(GrainKey, jobId, model, reservedBefore), billing, Now);
        if (step.Result.Admitted && !step.Result.Repeated)
        {
            await CommitAsync(step);
        }
        else if (step.Result.Repeated)
        {
            await DurableAsync(); // a retry must not hear "admitted" before the first admission is stored
        }

        return step.Result;
    }

    public async Task<int> FinishJobsAsync(IReadOnlyList<JobSnapshot> jobs)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        var ended = jobs.Where(j => j.IsTerminal && S.Book.Open.ContainsKey(j.JobId)).DistinctBy(j => j.JobId, StringComparer.Ordinal)
            .Select(j => (j.JobId, j)).ToList();
        if (ended.Count == 0)
        {
            return 0;
        }

        var step = TenantBilling.Settle(S, ended, billing, Now);
        if (step.Result > 0)
        {
            await CommitAsync(step);
        }

        return step.Result;
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        Hosting.ReminderLag.Record(status, reminderName, time);
        if (reminderName == ReservationsReminder)
        {
            await CheckReservationsAsync(CancellationToken.None);
        }
        else if (reminderName == DunningReminder)
        {
            // One-shot: Orleans reminders repeat, so it goes once it has been handled.
            var step = TenantBilling.Dun(S, billing, Now);
            if (!ReferenceEquals(step.State, S))
            {
                await CommitAsync(step);
            }

            if (!step.Result)
            {
                await UnregisterAsync(DunningReminder);
            }
        }
    }

    public async Task<UsageSnapshot> SetPlanAsync(string planId)
    {
        RequireCreated();
        var plan = billing.FindPlan(planId) ?? throw new ArgumentException($"no plan '{planId}'", nameof(planId));
        await CommitAsync(TenantBilling.SetPlan(S, plan, billing, Now));
        return TenantBilling.Usage(GrainKey, S, billing, Now);
    }

    public async Task<UsageSnapshot> GrantCreditsAsync(string grantId, long credits, string? reason)
    {
        RequireCreated();
        ArgumentException.ThrowIfNullOrWhiteSpace(grantId);
        var key = (credits >= 0 ? "grant:" : "revoke:") + grantId;
        if (!await HasLedgerKeyAsync(key))
        {
            await CommitAsync(TenantBilling.Grant(S, key, credits, reason, billing, Now));
        }

        return TenantBilling.Usage(GrainKey, S, billing, Now); // the same grant again changes nothing
    }

    public async Task<string> LinkStripeCustomerAsync(string customerId)
    {
        RequireCreated();
        if (S.CustomerId is { } existing)
        {
            return existing;
        }

        await CommitAsync(new TenantStep<bool>(S with { CustomerId = customerId }, true, new TenantEffects { Customers = [customerId] }));
        return customerId;
    }

    public async Task<string> ApplyStripeAsync(StripeUpdate update)
    {
        ArgumentNullException.ThrowIfNull(update);
        if (S.Outbox.HasEvent(update.EventId) || await ledger.EventSeenAsync(update.EventId))
        {
            return "duplicate";
        }

        var creditedBefore = TenantBilling.CreditKeyOf(update) is { } key && await HasLedgerKeyAsync(key);
        var step = TenantBilling.ApplyStripe(S, update, creditedBefore, billing, Now);
        await CommitAsync(step);
        return step.Result;
    }

    public Task<UsageSnapshot> GetUsageAsync() => Task.FromResult(TenantBilling.Usage(GrainKey, TenantBilling.Rolled(S, billing, Now).State, billing, Now));

    /// <summary>The open reservations' jobs as committed ([ReadOnly] reads, 16 at a time, from this
    /// activation's own context: grain calls may not be made from thread-pool threads). A job still
    /// New past the grace never reached its grain (the submission was lost after admission): it is
    /// closed there first — so neither a late nor a repeated submission can run it unpaid — and its
    /// reservation is then released. One that arrived meanwhile comes back as it is. With
    /// <paramref name="requeue"/> (after activation), a queued job is made sure of its queue row.</summary>
    private async Task<List<(string JobId, JobSnapshot Job)>> ReadJobsAsync(List<string> ids, bool requeue = false)
    {
        var jobs = new List<(string, JobSnapshot)>(ids.Count);
        var now = Now;
        foreach (var chunk in ids.Chunk(16))
        {
            var read = await Task.WhenAll(chunk.Select(id => GrainFactory.GetGrain<IJobGrain>(id).GetAsync()));
            for (var i = 0; i < chunk.Length; i++)
            {
                var job = read[i];
                if (job.Status == JobStatus.New && S.Book.Open.TryGetValue(chunk[i], out var held) && now - held.AtMs >= billing.ReservationGraceSeconds * 1000L)
                {
                    job = await GrainFactory.GetGrain<IJobGrain>(chunk[i]).AbandonAsync(
                        $"the submission never arrived after admission; its {held.Price} credits were given back (submit again with a new Idempotency-Key)");
                }
                else if (requeue && job.Status == JobStatus.Queued)
                {
                    await GrainFactory.GetGrain<IJobGrain>(chunk[i]).EnsureQueuedAsync();
                }

                jobs.Add((chunk[i], job));
            }
        }

        return jobs;
    }

    /// <summary>Keeps a decision's state in memory with the rows it owes in its outbox, waits until a
    /// write has stored it, then carries out the rest of its effects.</summary>
    private async Task CommitAsync<T>(TenantStep<T> step)
    {
        var effects = step.Effects;
        state.State = step.State with { Outbox = S.Outbox.Plus(effects.ToOutbox(Now)) };
        await DurableAsync();
        foreach (var charge in effects.Charges)
        {
            ActorsMetrics.CreditsConsumed.Add(charge.Credits, new KeyValuePair<string, object?>("plan", charge.PlanId), new KeyValuePair<string, object?>("model", charge.Model));
        }

        if (effects.WatchReservations || effects.StopWatchingReservations)
        {
            await SyncReservationsReminderAsync();
        }

        if (effects.DunningDueMs is { } dueMs)
        {
            var due = DateTimeOffset.FromUnixTimeMilliseconds(dueMs) - time.GetUtcNow();
            await this.RegisterOrUpdateReminder(DunningReminder, due > TimeSpan.Zero ? due : TimeSpan.Zero, TimeSpan.FromHours(1));
        }
    }

    /// <summary>Completes once the state as it is now is stored (group commit): one write at a
    /// time; the calls that change the state while it runs share the next one.</summary>
    private Task DurableAsync()
    {
        _nextWrite ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var stored = _nextWrite.Task;
        if (!_writing)
        {
            _ = WriteBatchesAsync();
        }

        return stored;
    }

    private async Task WriteBatchesAsync()
    {
        _writing = true;
        try
        {
            while (_nextWrite is { } batch)
            {
                _nextWrite = null;
                try
                {
                    await WriteOnceAsync();
                    batch.SetResult();
                }
                catch (Exception e)
                {
                    batch.SetException(e); // its callers fail, and a failed call drops this activation
                }
            }
        }
        finally
        {
            _writing = false;
        }
    }

    /// <summary>Writes the state with its outbox, inserts the outbox's rows and forgets them (the
    /// shorter outbox is stored with the next write; rows staged meanwhile stay).</summary>
    private async Task WriteOnceAsync()
    {
        var written = S.Outbox;
        await state.WriteStateAsync();
        if (!written.IsEmpty)
        {
            await ledger.ApplyAsync(GrainKey, written);
            state.State = S with { Outbox = S.Outbox.After(written) };
        }
    }

    private async Task<bool> HasLedgerKeyAsync(string key) =>
        S.Outbox.HasLedgerKey(key) || await ledger.HasAsync(GrainKey, key);

    /// <summary>Admissions and settlements interleave, and so would their reminder calls: a
    /// settlement's unregister could land after a later admission's register, leaving open
    /// reservations with no reminder watching them. The calls go one at a time, and each does what
    /// the state says <i>when it runs</i> (reservations open: registered; none: unregistered), so
    /// the last one always matches the latest state.</summary>
    private Task SyncReservationsReminderAsync()
    {
        // One at a time: each waits for the one before (the grain's single thread makes the
        // chaining itself race-free).
        _reminderSync = SyncAfterAsync(_reminderSync);
        return _reminderSync;
    }

    private async Task SyncAfterAsync(Task previous)
    {
        await Task.WhenAny(previous); // its failure was its own caller's
        var wanted = S.ReservationReminder;
        if (wanted == _reminderKnown)
        {
            return;
        }

        if (wanted)
        {
            var every = TimeSpan.FromSeconds(billing.ReservationCheckSeconds);
            await this.RegisterOrUpdateReminder(ReservationsReminder, every, every);
        }
        else
        {
            await UnregisterAsync(ReservationsReminder);
        }

        _reminderKnown = wanted;
    }

    private Task _reminderSync = Task.CompletedTask;

    /// <summary>What this activation last made the reminder table say; null until it has.</summary>
    private bool? _reminderKnown;

    private async Task UnregisterAsync(string name)
    {
        if (await this.GetReminder(name) is { } reminder)
        {
            await this.UnregisterReminder(reminder);
        }
    }

    private long Now => time.GetUtcNow().ToUnixTimeMilliseconds();

    private TenantSnapshot Snapshot() =>
        new(GrainKey, S.Name, S.Tier, S.Created, S.KeyHashes.Keys.Order(StringComparer.Ordinal).ToList(), S.Created ? TenantBilling.PlanOf(S, billing).Id : "");

    private void RequireCreated()
    {
        if (!S.Created)
        {
            throw new InvalidOperationException($"tenant {GrainKey} does not exist");
        }
    }
}
