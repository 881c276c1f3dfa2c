using Actors.Fleet.Providers;
using Actors.Grains;
using Actors.Grains.Diagnostics;

namespace Actors.Grains.Instances;

/// <summary>One GPU instance: its lifecycle and cost, the reports of its GPU host, and — for an
/// instance a provider rents — the provider operations that move it, each pending until
/// <see cref="PollAsync"/> sees it done, retried when it fails, abandoned past its time-out.</summary>
[Hosting.GpuHostPlacement]
public sealed class InstanceGrain([PersistentState(InstanceDirectory.StateName)] IPersistentState<InstanceRecord> state, TimeProvider time,
    ILocalSiloDetails localSilo, IClusterMembershipService membership) : Grain, IInstanceGrain
{
    private string GrainKey => this.GetPrimaryKeyString();

    /// <summary>A host on another silo of the cluster serves this instance: once idle, the grain
    /// moves there (placement picks the silo whose metadata names the instance).</summary>
    private void FollowHost(string siloId)
    {
        if (siloId != localSilo.SiloAddress.ToParsableString()
            && membership.CurrentSnapshot.Members.Any(m => m.Value.Status == SiloStatus.Active && m.Key.ToParsableString() == siloId))
        {
            this.MigrateOnIdle();
        }
    }

    /// <summary>Tries per operation before it is given up.</summary>
    public const int MaxAttempts = 3;

    /// <summary>An operation is abandoned at twice its ETA plus this.</summary>
    public static readonly TimeSpan TimeoutGrace = TimeSpan.FromSeconds(30);

    /// <summary>The provider, on the control plane (<see cref="IProviderGrain"/>); null if it has none by that name.</summary>
    private async Task<IInstanceProvider?> FindProviderAsync(string name)
    {
        var grain = GrainFactory.GetGrain<IProviderGrain>(name);
        return await grain.DescribeAsync() is { } description ? new RemoteProvider(name, description, grain) : null;
    }

    private async Task<IInstanceProvider> ProviderAsync(string name) =>
        await FindProviderAsync(name) ?? throw new ProviderException("unknown_provider", $"no instance provider '{name}' on the control plane");

    public async Task<InstanceSnapshot> ConfigureAsync(string gpuType, HourlyRates rates)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(gpuType);
        if (rates.Cold < 0 || rates.Warm < 0 || rates.Hot < 0 || rates.Serving < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(rates), "hourly rates cannot be negative");
        }

        var now = time.GetUtcNow();
        state.State = InstanceLifecycle.Close(state.State, now) with { GpuType = gpuType, Rates = rates };
        await state.WriteStateAsync();
        return InstanceLifecycle.Snapshot(GrainKey, state.State, now);
    }

    public async Task<InstanceSnapshot> TransitionAsync(InstanceState target)
    {
        var now = time.GetUtcNow();
        state.State = InstanceLifecycle.Move(state.State, target, now);
        await state.WriteStateAsync();
        return InstanceLifecycle.Snapshot(GrainKey, state.State, now);
    }

    public async Task<InstanceSnapshot> HostReadyAsync(string siloId, string[] models)
    {
        ArgumentException.ThrowIfNullOrEmpty(siloId);
        var now = time.GetUtcNow();
        var moved = InstanceLifecycle.MoveTo(state.State, InstanceState.Hot, now);
        state.State = moved with { HostSiloId = siloId, Models = [.. models.Order(StringComparer.Ordinal)], Health = InstanceHealth.Ok, HealthReason = null };
        await state.WriteStateAsync();
        FollowHost(siloId);
        return InstanceLifecycle.Snapshot(GrainKey, state.State, now);
    }

    public async Task<InstanceSnapshot> ReportBusyAsync(string siloId, bool busy)
    {
        var now = time.GetUtcNow();
        var target = busy ? InstanceState.Serving : InstanceState.Hot;
        if (state.State.HostSiloId == siloId && state.State.State is InstanceState.Hot or InstanceState.Serving && state.State.State != target)
        {
            state.State = InstanceLifecycle.Move(state.State, target, now);
            await state.WriteStateAsync();
        }

        return InstanceLifecycle.Snapshot(GrainKey, state.State, now);
    }

    public async Task<InstanceSnapshot> HostStoppedAsync(string siloId, string? lostReason)
    {
        var now = time.GetUtcNow();
        if (state.State.HostSiloId == siloId)
        {
            // A machine that cannot stop still runs, billed, when its silo dies: it stays HOT (down)
            // until it is released, rather than being counted at a WARM rate it does not have.
            var moved = state.State.State is InstanceState.Hot or InstanceState.Serving && !state.State.CannotStop
                ? InstanceLifecycle.MoveTo(state.State, InstanceState.Warm, now)
                : state.State.State == InstanceState.Serving ? InstanceLifecycle.Move(state.State, InstanceState.Hot, now) : state.State;
            state.State = moved with
            {
                HostSiloId = null,
                Health = lostReason is null ? InstanceHealth.Ok : InstanceHealth.Down,
                HealthReason = lostReason,
            };
            await state.WriteStateAsync();
        }

        return InstanceLifecycle.Snapshot(GrainKey, state.State, now);
    }

    public async Task<InstanceSnapshot> HostWarmAsync(string siloId)
    {
        ArgumentException.ThrowIfNullOrEmpty(siloId);
        var now = time.GetUtcNow();
        var moved = state.State.State == InstanceState.Warm || state.State.CannotStop ? state.State : InstanceLifecycle.MoveTo(state.State, InstanceState.Warm, now);
        state.State = moved with { HostSiloId = siloId, Models = [], Health = InstanceHealth.Ok, HealthReason = null };
        await state.WriteStateAsync();
        FollowHost(siloId);
        return InstanceLifecycle.Snapshot(GrainKey, state.State, now);
    }

    public async Task<InstanceSnapshot> RentAsync(string gpuType, string provider, bool resumeWhenWarm, string reason)
    {
        var r = state.State;
        if (r.State != InstanceState.Cold || r.Pending is not null)
        {
            throw new InvalidTransitionException("instance", Describe(r), "rent");
        }

        var p = await ProviderAsync(provider);
        var offer = p.PriceList.FirstOrDefault(o => o.GpuType == gpuType)
            ?? throw new ProviderException("unknown_gpu", $"provider '{provider}' has no GPU type '{gpuType}' (it has: {string.Join(", ", p.PriceList.Select(o => o.GpuType))})");
        var ticket = await p.RentAsync(GrainKey, gpuType);
        var now = time.GetUtcNow();
        var cannotStop = !p.Capabilities.CanStop;
        var launch = cannotStop || p.Capabilities.RentsRunning;
        state.State = InstanceLifecycle.Close(r, now) with
        {
            GpuType = gpuType,
            Rates = new HourlyRates(0, cannotStop ? offer.HotPerHour : offer.WarmPerHour, offer.HotPerHour, offer.HotPerHour),
            Provider = provider,
            CannotStop = cannotStop,
            RentsRunning = launch,
            Pending = Pending(ticket, launch ? "launch" : "rent", 1, reason, now),
            ResumeWhenWarm = resumeWhenWarm && !launch,
            LastError = null,
            Health = InstanceHealth.Ok,
            HealthReason = null,
        };
        await state.WriteStateAsync();
        return InstanceLifecycle.Snapshot(GrainKey, state.State, now);
    }

    public Task<InstanceSnapshot> ResumeAsync(string reason) => BeginAsync("resume", reason, InstanceState.Warm);

    /// <summary>HOT → WARM; refused ("not_supported") on a provider that cannot stop: release it.</summary>
    public Task<InstanceSnapshot> StopAsync(string reason) =>
        state.State.CannotStop
            ? throw new ProviderException("not_supported", $"instance {GrainKey}'s provider '{state.State.Provider}' cannot stop a machine (it runs, billed, or is gone): release it instead")
            : BeginAsync("stop", reason, InstanceState.Hot, InstanceState.Serving);

    /// <summary>WARM → COLD; from HOT (or SERVING) on a provider that cannot stop; from any of
    /// them on a cloud (a running machine is terminated as it is).</summary>
    public Task<InstanceSnapshot> ReleaseAsync(string reason) =>
        state.State.CannotStop
            ? BeginAsync("release", reason, InstanceState.Hot, InstanceState.Serving)
            : state.State.RentsRunning
                ? BeginAsync("release", reason, InstanceState.Warm, InstanceState.Hot, InstanceState.Serving)
                : BeginAsync("release", reason, InstanceState.Warm);

    public async Task<InstanceSnapshot> PollAsync()
    {
        var r = state.State;
        var name = r.Provider ?? (r.Pending is not null ? InstanceProviders.HostProviderName : null);
        if (name is null || await FindProviderAsync(name) is not { } provider)
        {
            return InstanceLifecycle.Snapshot(GrainKey, r, time.GetUtcNow());
        }

        var status = await provider.StatusAsync(GrainKey);
        var now = time.GetUtcNow();
        var next = r.Pending is { } pending ? await SettleAsync(provider, r, pending, status, now) : Watch(r, status, now);
        if (!ReferenceEquals(next, r))
        {
            state.State = next;
            await state.WriteStateAsync();
        }

        return InstanceLifecycle.Snapshot(GrainKey, state.State, now);
    }

    public Task<InstanceSnapshot> GetAsync() => Task.FromResult(InstanceLifecycle.Snapshot(GrainKey, state.State, time.GetUtcNow()));

    private async Task<InstanceSnapshot> BeginAsync(string operation, string reason, params InstanceState[] from)
    {
        var r = state.State;
        if (!from.Contains(r.State) || r.Pending is not null)
        {
            throw new InvalidTransitionException("instance", Describe(r), operation);
        }

        var provider = await ProviderAsync(r.Provider ?? InstanceProviders.HostProviderName);
        var ticket = await Call(provider, operation);
        var now = time.GetUtcNow();
        state.State = r with { Pending = Pending(ticket, operation, 1, reason, now), LastError = null, ResumeWhenWarm = false };
        await state.WriteStateAsync();
        return InstanceLifecycle.Snapshot(GrainKey, state.State, now);
    }

    /// <summary>An operation in flight, against what the provider says now.</summary>
    private async Task<InstanceRecord> SettleAsync(IInstanceProvider provider, InstanceRecord r, PendingOperation pending, ProviderStatus status, DateTimeOffset now)
    {
        if (status.Phase == ProviderPhase.Preempted)
        {
            return Gone(r, now, status.Error ?? "preempted by the provider");
        }

        if (status.InFlight)
        {
            var deadline = pending.StartedAt + (pending.ExpectedAt - pending.StartedAt) * 2 + TimeoutGrace;
            if (now <= deadline)
            {
                return r;
            }

            var error = $"{pending.Operation} timed out after {(now - pending.StartedAt).TotalSeconds:0} s (ETA was {(pending.ExpectedAt - pending.StartedAt).TotalSeconds:0} s)";
            if (pending.Operation is "rent" or "launch")
            {
                // Never left waiting on a rent that does not come (a machine that never joined): give it back.
                ActorsMetrics.CloudRentsFailed.Add(1, new KeyValuePair<string, object?>("provider", r.Provider));
                var release = await TryCall(provider, "release");
                return r with
                {
                    Pending = release is null ? null : Pending(release, "release", 1, error, now),
                    LastError = error,
                    ResumeWhenWarm = false,
                    Health = InstanceHealth.Down, // it never came up (kept once the release is done: a failed rent)
                    HealthReason = error,
                };
            }

            return r with { Pending = null, LastError = error, Health = InstanceHealth.Degraded, HealthReason = error };
        }

        if (status.Phase != ProviderPhase.Failed && status.Settled == pending.Target)
        {
            var moved = r.State == pending.Target || (pending.Target == InstanceState.Hot && r.State == InstanceState.Serving)
                ? r
                : InstanceLifecycle.MoveTo(r, pending.Target, now);
            // When it got there, as the provider saw it (not when this poll noticed).
            var settledAt = status.Since > pending.StartedAt && status.Since <= now ? status.Since : now;
            var measured = new Dictionary<string, double>(r.MeasuredSeconds) { [pending.Operation] = Math.Round((settledAt - pending.StartedAt).TotalSeconds, 3) };
            var done = moved with { Pending = null, LastError = null, MeasuredSeconds = measured };
            if (pending.Target == InstanceState.Cold)
            {
                done = done with { HostSiloId = null, Models = [] };
            }

            if (pending.Operation == "rent" && r.ResumeWhenWarm)
            {
                var resume = await TryCall(provider, "resume");
                return done with
                {
                    ResumeWhenWarm = false,
                    Pending = resume is null ? null : Pending(resume, "resume", 1, pending.Reason, now),
                    LastError = resume is null ? "resume after rent refused" : null,
                };
            }

            return done;
        }

        // Failed, or settled somewhere else than asked: try again, up to MaxAttempts.
        var why = status.Error ?? $"the provider settled it {status.Settled}, not {pending.Target}";
        if (status.Settled == InstanceState.Cold && r.State != InstanceState.Cold && pending.Operation is not ("rent" or "launch"))
        {
            return Gone(r, now, why);
        }

        if (pending.Attempt < MaxAttempts)
        {
            var again = await TryCall(provider, pending.Operation);
            if (again is not null)
            {
                return r with { Pending = Pending(again, pending.Operation, pending.Attempt + 1, pending.Reason, now), LastError = why };
            }
        }

        var failed = $"{pending.Operation} failed after {pending.Attempt} tries: {why}";
        return r with { Pending = null, LastError = failed, ResumeWhenWarm = false, Health = InstanceHealth.Degraded, HealthReason = failed };
    }

    /// <summary>No operation in flight: notice an instance the provider no longer has.</summary>
    private static InstanceRecord Watch(InstanceRecord r, ProviderStatus status, DateTimeOffset now)
    {
        if (r.State == InstanceState.Cold)
        {
            return r;
        }

        if (status.Phase == ProviderPhase.Preempted || (status.Settled == InstanceState.Cold && !status.InFlight))
        {
            return Gone(r, now, status.Error ?? "the provider no longer has it");
        }

        return r;
    }

    private static InstanceRecord Gone(InstanceRecord r, DateTimeOffset now, string why) =>
        InstanceLifecycle.MoveTo(r, InstanceState.Cold, now) with
        {
            Pending = null,
            ResumeWhenWarm = false,
            HostSiloId = null,
            Models = [],
            Health = InstanceHealth.Down,
            HealthReason = why,
            LastError = why,
        };

    private async Task<ProviderTicket?> TryCall(IInstanceProvider provider, string operation)
    {
        try
        {
            return await Call(provider, operation);
        }
        catch (ProviderException)
        {
            return null;
        }
    }

    private Task<ProviderTicket> Call(IInstanceProvider provider, string operation) => operation switch
    {
        "resume" => provider.ResumeAsync(GrainKey),
        "stop" => provider.StopAsync(GrainKey),
        "release" => provider.ReleaseAsync(GrainKey),
        "rent" or "launch" => provider.RentAsync(GrainKey, state.State.GpuType),
        _ => throw new ArgumentOutOfRangeException(nameof(operation), operation, "unknown operation"),
    };

    private static PendingOperation Pending(ProviderTicket ticket, string operation, int attempt, string reason, DateTimeOffset now) =>
        new(operation, now, now + ticket.Eta, attempt, reason);

    private static string Describe(InstanceRecord r) =>
        r.Pending is { } p ? $"{r.State} ({p.Operation} in flight)" : r.State.ToString();
}
