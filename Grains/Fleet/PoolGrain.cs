using Actors.Fleet.Policies;
using Actors.Fleet.Providers;
using Actors.Grains.Instances;
using Actors.Grains.Tenants;
using Actors.Storage.Queue;
using Actors.Grains.Jobs;
using Actors.Storage.ReadModels;
using Actors.Grains.Diagnostics;

namespace Actors.Grains.Fleet;

/// <summary>The autoscaler. Each tick: poll every instance (settling provider operations, noticing
/// lost ones), measure the queues per tier, ask the policy (wrapped in the operator's limits) and
/// carry out its actions through the instance grains. Policies are pure; this grain is the only
/// place their actions touch the world.</summary>
[Hosting.ControlPlacement]
public sealed class PoolGrain([PersistentState("pool")] IPersistentState<PoolRecord> state, InstanceDirectory directory, IJobQueue queue, JobIndex jobs,
    PoolOptions options, TimeProvider time, InstanceProviders? providers = null) : Grain, IPoolGrain
{
    public const string Key = IPoolGrain.Key;
    private const string ReminderName = "tick";
    private const int RecentKept = 60;
    private const int AlertsKept = 20;
    private IGrainTimer? _timer;

    /// <summary>A durable reminder wakes the pool (at most once a minute: Orleans' reminders are
    /// for durable wake-ups, not fast ticks); while it is awake a grain timer ticks every
    /// <see cref="PoolOptions.TickSeconds"/>.</summary>
    public async Task<PoolView> StartAsync(TimeSpan tick, PoolSettings defaults)
    {
        if (state.State.Settings is null)
        {
            state.State = state.State with { Settings = Validated(defaults) };
            await state.WriteStateAsync();
        }

        var wake = tick < TimeSpan.FromMinutes(1) ? TimeSpan.FromMinutes(1) : tick;
        await this.RegisterOrUpdateReminder(ReminderName, wake, wake);
        StartTimer();
        return View(state.State);
    }

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (await this.GetReminder(ReminderName, cancellationToken) is not null)
        {
            StartTimer(); // started before, woken by its reminder (or a call) after a restart: tick again
        }
    }

    private void StartTimer()
    {
        if (_timer is null && options.TickSeconds > 0)
        {
            var tick = TimeSpan.FromSeconds(options.TickSeconds);
            _timer = this.RegisterGrainTimer(TickAsync, new GrainTimerCreationOptions(tick, tick) { KeepAlive = true });
        }
    }

    public async Task<PoolView> ConfigureAsync(PoolSettings settings)
    {
        var before = state.State.Settings;
        state.State = Record(state.State, Event("settings", null, Describe(before, Validated(settings)))) with { Settings = settings };
        await state.WriteStateAsync();
        return View(state.State);
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        Hosting.ReminderLag.Record(status, reminderName, time);
        if (reminderName == ReminderName)
        {
            await TickAsync();
        }
    }

    public async Task<PoolView> TickAsync()
    {
        var r = state.State;
        var settings = r.Settings ?? options.Defaults();
        var now = time.GetUtcNow();
        var instances = new List<InstanceSnapshot>();
        foreach (var seen in await directory.SnapshotsAsync())
        {
            // The committed state first; a poll (a call on the grain) only where the provider has
            // something to say: an operation in flight, or a provider-held instance that may have
            // been lost. Released instances and hosts started by hand report for themselves.
            var id = seen.InstanceId;
            var instance = GrainFactory.GetGrain<IInstanceGrain>(id);
            if (seen.Pending is null && (seen.Provider is null || seen.State == InstanceState.Cold))
            {
                instances.Add(seen);
                continue;
            }

            try
            {
                instances.Add(await instance.PollAsync());
            }
            catch (Exception e) when (e is ProviderException or HttpRequestException or TimeoutException or OrleansException)
            {
                // OrleansException: its host silo is gone and not yet declared dead (the grain is unreachable).
                r = Record(r, Event("poll", id, "status check failed", e.Message));
                instances.Add(seen);
            }
        }

        r = CountFailures(r, instances, now);
        var accrued = instances.Sum(i => i.AccruedUsd);
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        if (r.Day != today)
        {
            r = r with { Day = today, AccruedAtDayStart = accrued };
        }

        var views = instances.Select(ToView).ToList();
        r = await MeasureServiceAsync(r, instances, now);
        r = r with
        {
            LastTick = now,
            SpentTodayUsd = Math.Round(accrued - r.AccruedAtDayStart, 6),
            CurrentPerHour = views.Sum(v => v.CurrentPerHour),
            RefusingUntil = r.RefusingUntil.Where(kv => kv.Value > now).ToDictionary(),
        };

        var forecasting = settings.Policy.StartsWith("forecast", StringComparison.Ordinal);
        if (settings.Autoscale && forecasting && r.Memory.Profile.Hour < 0)
        {
            // The forecast policy's first tick: its profile starts from the last four weeks of jobs.
            r = r with { Memory = r.Memory with { Profile = DemandProfile.From(await jobs.ArrivalsPerHourAsync(now.AddDays(-28)), now) } };
        }

        if (settings.Autoscale)
        {
            var snapshot = new PoolSnapshot(now, views, await QueuesAsync(now), r.Service.Or(options.ServiceSecondsPerJob), r.SpentTodayUsd,
                new PoolLimits { MinHot = settings.MinHot, MaxInstances = settings.MaxInstances, DailyBudgetUsd = settings.DailyBudgetUsd }, r.Memory)
            {
                GpuType = settings.Offers.Count > 0 ? settings.Offers[0].GpuType : settings.GpuType,
                PriceList = providers is not null && providers.Has(Primary(settings)) ? providers.Get(Primary(settings)).PriceList : [],
                Capabilities = providers is not null && providers.Has(Primary(settings)) ? providers.Get(Primary(settings)).Capabilities : ProviderCapabilities.Stoppable(TimeSpan.FromMinutes(1)),
                LastArrivalAt = forecasting ? await jobs.LastCreatedAtAsync() : null, // only the forecast policy's keep-alive reads it
            };
            var policy = options.CreatePolicy(settings.Policy);
            var decision = policy.Decide(snapshot);
            r = r with { Memory = decision.Memory, Forecast = PolicyUnwrap.Forecast(policy)?.Explain(snapshot with { Memory = decision.Memory }) };
            foreach (var action in decision.Actions)
            {
                r = await CarryOutAsync(r, settings, action, now);
            }
        }

        state.State = r;
        await state.WriteStateAsync();
        return View(r);
    }

    public Task<PoolView> GetAsync() => Task.FromResult(View(state.State));

    private async Task<PoolRecord> CarryOutAsync(PoolRecord r, PoolSettings settings, PoolAction action, DateTimeOffset now)
    {
        switch (action)
        {
            case RentAction rent when settings.Offers.Count > 0:
                return await RentFromOffersAsync(r, settings, rent, now);
            case RentAction rent:
                var id = $"i-{r.Rented + 1:000}";
                r = r with { Rented = r.Rented + 1 };
                return await TryAsync(r, "rent", id, rent.Reason, () => GrainFactory.GetGrain<IInstanceGrain>(id).RentAsync(rent.GpuType, settings.Provider, rent.ResumeWhenWarm, rent.Reason),
                    e => e is ProviderException { Code: "unavailable" } ? r.Memory with { RentBackoffUntil = now.AddMinutes(5) } : null);
            case ResumeAction resume:
                return await TryAsync(r, "resume", resume.InstanceId, resume.Reason, () => GrainFactory.GetGrain<IInstanceGrain>(resume.InstanceId).ResumeAsync(resume.Reason));
            case StopAction stop:
                return await TryAsync(r, "stop", stop.InstanceId, stop.Reason, () => GrainFactory.GetGrain<IInstanceGrain>(stop.InstanceId).StopAsync(stop.Reason));
            case ReleaseAction release:
                return await TryAsync(r, "release", release.InstanceId, release.Reason, () => GrainFactory.GetGrain<IInstanceGrain>(release.InstanceId).ReleaseAsync(release.Reason));
            case RefuseTierAction refuse:
                ActorsMetrics.PoolActions.Add(1, new("action", "refuse"), new("result", "ok"));
                var until = now + TimeSpan.FromSeconds(Math.Max(10, options.TickSeconds * 3));
                var refusing = new Dictionary<Tier, DateTimeOffset>(r.RefusingUntil) { [refuse.Tier] = until };
                return (r.RefusingUntil.ContainsKey(refuse.Tier) ? r : Record(r, Event("refuse", null, refuse.Reason))) with { RefusingUntil = refusing };
            case AlertAction alert:
                ActorsMetrics.PoolAlerts.Add(1, new KeyValuePair<string, object?>("name", alert.Name));
                var alerts = r.Alerts.Where(a => !(a.Kind == alert.Name && now - a.At < TimeSpan.FromMinutes(5))).Append(Event(alert.Name, null, alert.Reason)).TakeLast(AlertsKept).ToList();
                return r with { Alerts = alerts };
            default:
                return r;
        }
    }

    private static string Primary(PoolSettings settings) => settings.Offers.Count > 0 ? settings.Offers[0].Provider : settings.Provider;

    /// <summary>A rent through the pool's ordered offers: each line is skipped while its provider
    /// backs off, when its price is over the line's max or would take the pool over its max $/h,
    /// or when the provider has no capacity (which starts its back-off); the first that takes the
    /// rent wins. Every decision is an event (in /admin/fleet and on the dashboard) and a metric.</summary>
    private async Task<PoolRecord> RentFromOffersAsync(PoolRecord r, PoolSettings settings, RentAction rent, DateTimeOffset now)
    {
        var id = $"i-{r.Rented + 1:000}";
        r = r with { Rented = r.Rented + 1 };
        var skipped = new List<string>();
        foreach (var offer in settings.Offers)
        {
            var line = offer.ToString();
            string? skip = null, outcome = null;
            var price = providers is not null && providers.Has(offer.Provider) ? providers.Get(offer.Provider).PriceList.FirstOrDefault(o => o.GpuType == offer.GpuType)?.HotPerHour : null;
            if (r.Backoff.TryGetValue(offer.Provider, out var backoff) && backoff.Until > now)
            {
                (skip, outcome) = ($"{line}: backing off until {backoff.Until:HH:mm:ss} after {backoff.Failures} failure(s) ({backoff.LastReason})", "backing_off");
            }
            else if (price is { } p && offer.MaxPerHour is { } max && p > max)
            {
                (skip, outcome) = ($"{line}: ${p}/h is over the line's max ${max}/h", "over_price");
            }
            else if (price is { } q && settings.MaxPerHourUsd is { } cap && r.CurrentPerHour + q > cap)
            {
                (skip, outcome) = ($"{line}: ${q}/h would take the pool from ${r.CurrentPerHour}/h over its max ${cap}/h", "over_budget");
            }

            if (skip is not null)
            {
                ActorsMetrics.PoolOfferDecisions.Add(1, new("provider", offer.Provider), new("outcome", outcome));
                skipped.Add(skip);
                continue;
            }

            try
            {
                await GrainFactory.GetGrain<IInstanceGrain>(id).RentAsync(offer.GpuType, offer.Provider, rent.ResumeWhenWarm, rent.Reason);
                ActorsMetrics.PoolOfferDecisions.Add(1, new("provider", offer.Provider), new("outcome", "rented"));
                ActorsMetrics.PoolActions.Add(1, new("action", "rent"), new("result", "ok"));
                var why = skipped.Count == 0 ? "first choice" : "fallback after: " + string.Join("; ", skipped);
                return Record(r, Event("rent", id, $"{rent.Reason} — via {line}{(price is { } paid ? $" at ${paid}/h" : "")} ({why})")) with
                {
                    CurrentPerHour = r.CurrentPerHour + (price ?? 0),
                };
            }
            catch (Exception e) when (e is ProviderException or InvalidTransitionException or HttpRequestException or TimeoutException or OrleansException)
            {
                var code = e is ProviderException pe ? pe.Code : "failed";
                ActorsMetrics.PoolOfferDecisions.Add(1, new("provider", offer.Provider), new("outcome", code == "unavailable" ? "unavailable" : "failed"));
                r = Record(r, Event("offer", id, $"{line}: could not rent ({code})", e.Message));
                r = Backoff(r, offer.Provider, $"{code}: {e.Message}", now);
                skipped.Add($"{line}: {code}");
            }
        }

        ActorsMetrics.PoolActions.Add(1, new("action", "rent"), new("result", "error"));
        var none = string.Join("; ", skipped);
        return Record(r, Event("rent", id, rent.Reason, $"no offer could be rented: {none}")) with { Memory = r.Memory with { RentBackoffUntil = now + Delay(1) } };
    }

    /// <summary>Failed rents (a machine that never joined: released at its time-out) and lost
    /// machines (preempted, stopped by the cloud, silent) count against their provider, once each.</summary>
    private PoolRecord CountFailures(PoolRecord r, List<InstanceSnapshot> instances, DateTimeOffset now)
    {
        foreach (var i in instances.Where(i => i.Provider is not null && !r.CountedFailures.Contains(i.InstanceId)))
        {
            static bool RentFailed(string? e) => e is not null && (e.StartsWith("launch ", StringComparison.Ordinal) || e.StartsWith("rent ", StringComparison.Ordinal))
                && (e.Contains("timed out", StringComparison.Ordinal) || e.Contains("failed after", StringComparison.Ordinal));
            var lost = i.State == InstanceState.Cold && i.Pending is null && i.Health == InstanceHealth.Down;
            var failedRent = RentFailed(i.LastError) || (lost && RentFailed(i.HealthReason));
            if (failedRent || lost)
            {
                var why = (failedRent ? i.LastError ?? i.HealthReason : i.HealthReason) ?? "lost";
                r = Backoff(Record(r, Event("offer", i.InstanceId, $"{i.Provider}: {(failedRent ? "rent failed" : "machine lost")}", why)), i.Provider!, why, now) with
                {
                    CountedFailures = [.. r.CountedFailures.Append(i.InstanceId).TakeLast(200)],
                };
            }
        }

        return r;
    }

    private PoolRecord Backoff(PoolRecord r, string provider, string why, DateTimeOffset now)
    {
        var failures = r.Backoff.TryGetValue(provider, out var before) && now - before.Until < TimeSpan.FromMinutes(30) ? before.Failures + 1 : 1;
        var backoff = new Dictionary<string, OfferBackoff>(r.Backoff) { [provider] = new OfferBackoff(failures, now + Delay(failures), why.Length > 300 ? why[..300] + "…" : why) };
        return r with { Backoff = backoff };
    }

    private TimeSpan Delay(int failures) =>
        TimeSpan.FromSeconds(Math.Min(900, options.OfferBackoffSeconds * Math.Pow(2, Math.Max(0, failures - 1))));

    private async Task<PoolRecord> TryAsync(PoolRecord r, string kind, string instanceId, string reason, Func<Task<InstanceSnapshot>> act, Func<Exception, PoolMemory?>? onError = null)
    {
        try
        {
            await act();
            ActorsMetrics.PoolActions.Add(1, new("action", kind), new("result", "ok"));
            return Record(r, Event(kind, instanceId, reason));
        }
        catch (Exception e) when (e is ProviderException or InvalidTransitionException or HttpRequestException or TimeoutException or OrleansException)
        {
            ActorsMetrics.PoolActions.Add(1, new("action", kind), new("result", "error"));
            var next = Record(r, Event(kind, instanceId, reason, e.Message));
            return onError?.Invoke(e) is { } memory ? next with { Memory = memory } : next;
        }
    }

    /// <summary>Service time from what happened since the last tick: the instances' added SERVING
    /// seconds over the jobs that ran (not cache hits) and succeeded in that time.</summary>
    private async Task<PoolRecord> MeasureServiceAsync(PoolRecord r, List<InstanceSnapshot> instances, DateTimeOffset now)
    {
        var serving = instances.ToDictionary(i => i.InstanceId, i => i.TimeInState.GetValueOrDefault(InstanceState.Serving).TotalSeconds);
        if (r.LastTick is not { } last || r.ServingSeconds.Count == 0)
        {
            return r with { ServingSeconds = serving }; // a baseline first (a record from before this was kept has none)
        }

        var added = serving.Sum(kv => Math.Max(0, kv.Value - r.ServingSeconds.GetValueOrDefault(kv.Key)));
        var ran = await jobs.RanBetweenAsync(last, now);
        var service = r.Service.Add(added, ran);
        if (service.Seconds is { } seconds)
        {
            ActorsMetrics.RecordServiceSeconds(seconds);
        }

        return r with { Service = service, ServingSeconds = serving };
    }

    private async Task<IReadOnlyDictionary<Tier, TierQueue>> QueuesAsync(DateTimeOffset now)
    {
        var window = TimeSpan.FromSeconds(options.ArrivalWindowSeconds);
        var arrivals = await jobs.CreatedSinceAsync(now - window);
        var depth = (await queue.TierStatsAsync()).ToDictionary(d => d.Tier);
        return Enum.GetValues<Tier>().ToDictionary(t => t, t =>
        {
            var d = depth.GetValueOrDefault((int)t);
            return new TierQueue(d?.Depth ?? 0, d is null ? 0 : Math.Max(0, (now - d.OldestEnqueuedAt).TotalSeconds),
                arrivals.GetValueOrDefault((int)t) / window.TotalSeconds);
        });
    }

    /// <summary>As policies (and the simulator) see an instance: while an operation is in flight it
    /// is still where the operation started (its host may already have reported the new state).</summary>
    private static InstanceView ToView(InstanceSnapshot i)
    {
        var settled = i.Pending?.Operation switch
        {
            "rent" => InstanceState.Cold,
            "resume" or "release" => InstanceState.Warm,
            "stop" => InstanceState.Hot,
            _ => i.State,
        };
        return new(i.InstanceId, i.GpuType, settled, i.Since, i.Rates.Hot, i.Rates.Warm) { Pending = i.Pending?.Target, Health = i.Health };
    }

    private PoolEvent Event(string kind, string? instanceId, string reason, string? error = null) => new(time.GetUtcNow(), kind, instanceId, reason, error);

    private static PoolRecord Record(PoolRecord r, PoolEvent e) => r with { Recent = [.. r.Recent.Append(e).TakeLast(RecentKept)] };

    private static PoolSettings Validated(PoolSettings settings) =>
        settings.Problem() is { } problem ? throw new ArgumentException(problem, nameof(settings)) : settings;

    private static string Describe(PoolSettings? before, PoolSettings after) =>
        before is null ? $"configured: {after}" : $"changed: {before} → {after}";

    private PoolView View(PoolRecord r) =>
        new(r.Settings ?? options.Defaults(), r.LastTick, r.SpentTodayUsd, r.CurrentPerHour, r.Recent, r.Alerts, r.RefusingUntil)
        {
            ServiceSecondsPerJob = r.Service.Or(options.ServiceSecondsPerJob),
            ServiceMeasuredJobs = r.Service.Jobs,
            Forecast = r.Settings?.Policy.StartsWith("forecast", StringComparison.Ordinal) == true ? r.Forecast : null,
            BackingOff = r.Backoff.Where(b => b.Value.Until > time.GetUtcNow())
                .ToDictionary(b => b.Key, b => $"until {b.Value.Until:O} after {b.Value.Failures} failure(s): {b.Value.LastReason}"),
        };
}
