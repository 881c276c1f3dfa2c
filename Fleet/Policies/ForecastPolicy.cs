using Actors.Grains.Fleet;
using Actors.Grains.Instances;
using Actors.Grains.Tenants;

namespace Actors.Fleet.Policies;

public sealed record ForecastPolicyOptions
{
    /// <summary>p95 wait target per tier, seconds (<see cref="SloPolicyOptions.SeedTargets"/>).</summary>
    public IReadOnlyDictionary<Tier, double> TargetSeconds { get; init; } = SloPolicyOptions.SeedTargets;

    public double Percentile { get; init; } = 0.95;

    /// <summary>Share of a day's expected arrivals that may fall in hours with no HOT instance
    /// (scale to zero). A job that arrives then waits for a resume (minutes), so this must stay
    /// well under 1 − <see cref="Percentile"/>: bursts and the day's noise use the rest.</summary>
    public double ColdShare { get; init; } = 0.02;

    /// <summary>In a cold hour, how long a HOT instance with nothing to do is kept before it is
    /// stopped: about what a resume costs (2–5 min at the HOT rate), the ski-rental break-even.</summary>
    public TimeSpan KeepAlive { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>What a resume and model load take on average (2–5 min plus 30–60 s): what a cold start costs at the HOT rate.</summary>
    public TimeSpan ExpectedResume { get; init; } = TimeSpan.FromMinutes(4.25);

    /// <summary>How far ahead a forecast peak resumes standbys: a resume plus the model load, worst case.</summary>
    public TimeSpan ResumeLead { get; init; } = TimeSpan.FromMinutes(6);

    /// <summary>How far ahead standbys are rented for a forecast peak (rent 30–60 min, then resume).</summary>
    public TimeSpan RentLead { get; init; } = TimeSpan.FromMinutes(75);

    /// <summary>Scale in only when one instance fewer would still meet the targets at this × the
    /// rate, for <see cref="ScaleInAfter"/> (hysteresis, as the SLO policy).</summary>
    public double DownHeadroom { get; init; } = 1.2;

    public TimeSpan ScaleInAfter { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>What one cold start costs besides its rent (as the SLO policy): sets how long an
    /// idle WARM standby not needed by the forecast is worth holding.</summary>
    public decimal ColdStartPenaltyUsd { get; init; } = 0.10m;

    public TimeSpan ExpectedRentTime { get; init; } = TimeSpan.FromMinutes(45);

    public double FreeRefuseAfterSeconds { get; init; } = 60;

    /// <summary>Tiers whose jobs must not run on spot (preemptible) machines: the policy holds
    /// on-demand instances for their need (empty: every tier may run on spot).</summary>
    public IReadOnlySet<Tier> OnDemandTiers { get; init; } = new HashSet<Tier>();

    /// <summary>What on-demand capacity is rented as; null: the cheapest offer that is not spot.</summary>
    public string? OnDemandGpuType { get; init; }
}

/// <summary>Scales ahead of demand and down to zero. It learns a time-of-day and time-of-week
/// arrival profile from what the pool measures (<see cref="DemandProfile"/>) and holds HOT the
/// instances Erlang C says the larger of the measured and the forecast rate needs for every
/// tier's p95 target, the forecast looked up <see cref="ForecastPolicyOptions.ResumeLead"/> ahead
/// so a standby is resumed before a peak arrives, and standbys rented
/// <see cref="ForecastPolicyOptions.RentLead"/> ahead. In the quietest hours of the day — those
/// holding at most <see cref="ForecastPolicyOptions.ColdShare"/> of the day's jobs — it may hold
/// no HOT instance: the first job resumes the WARM standby, and a HOT instance idle for
/// <see cref="ForecastPolicyOptions.KeepAlive"/> is stopped. Run it with min HOT 0.</summary>
public sealed class ForecastPolicy(ForecastPolicyOptions? options = null) : IPoolPolicy
{
    private readonly ForecastPolicyOptions _o = options ?? new ForecastPolicyOptions();

    public string Name => "forecast";

    public ForecastPolicyOptions Options => _o;

    /// <summary>HOT instances that rates per tier need for every tier's target (0 for no arrivals).</summary>
    public int Needed(IReadOnlyDictionary<Tier, double> rates, double serviceSeconds) =>
        ErlangNeed.Servers(rates, serviceSeconds, _o.TargetSeconds, _o.Percentile);

    /// <summary>What the policy expects and why, for the operator's view (<c>/admin/fleet</c>).</summary>
    public PoolForecast Explain(PoolSnapshot s)
    {
        var profile = s.Memory.Profile;
        var cold = profile.ColdHours(_o.ColdShare, BreakEvenRate(s));
        var next = Enumerable.Range(0, 24).Select(h => profile.RateAt(s.Now.AddHours(h)) is { } r ? Math.Round(r * 3600, 1) : (double?)null).ToList();
        var ahead = profile.PeakRate(s.Now, _o.ResumeLead) is { } peak ? Needed(profile.Split(peak), s.ServiceSecondsPerJob) : (int?)null;
        return new PoolForecast(next, Enumerable.Range(0, 24).Where(h => cold[h]).ToList(), profile.KnowsDay, profile.KnowsWeek, ahead, IsCold(s, cold));
    }

    public PoolDecision Decide(PoolSnapshot s)
    {
        var actions = new List<PoolAction>();
        var profile = s.Memory.Profile.Learn(s.Now, s.Queues.ToDictionary(q => q.Key, q => q.Value.ArrivalPerSecond));
        var memory = s.Memory with { Profile = profile };
        var measured = s.Queues.ToDictionary(q => q.Key, q => q.Value.ArrivalPerSecond);
        var active = s.Instances.Where(i => i.Active).ToList();
        var cold = profile.ColdHours(_o.ColdShare, BreakEvenRate(s));
        var coldNow = IsCold(s, cold);

        // Now: the measured rate. Ahead: the forecast over the next resume, so a standby is HOT
        // when the peak comes, not minutes after it.
        var now = Needed(measured, s.ServiceSecondsPerJob);
        var forecastPeak = profile.PeakRate(s.Now, _o.ResumeLead);
        var ahead = forecastPeak is { } p ? Needed(profile.Split(p), s.ServiceSecondsPerJob) : 0;
        var waiting = s.QueueDepth > 0;
        var recent = s.LastArrivalAt is { } last && s.Now - last < _o.KeepAlive;
        int target;
        string why;
        if (coldNow)
        {
            // A quiet hour: one HOT instance only while there is work or was lately; more only for real load.
            var load = Math.Max(now, ahead);
            target = Math.Max(load >= 2 ? load : 0, waiting || recent ? 1 : 0);
            why = $"quiet hour (≤ {_o.ColdShare:P0} of the day's jobs): {(waiting ? "jobs waiting" : recent ? "a job in the last " + _o.KeepAlive.TotalMinutes + " min" : "idle")}";
        }
        else
        {
            target = Math.Max(1, Math.Max(now, ahead));
            why = $"{now} HOT for the measured {Rate(measured):0.000} jobs/s, {ahead} for the forecast {(forecastPeak ?? 0) * 3600:0} jobs/h within {_o.ResumeLead.TotalMinutes:0} min";
        }

        // Behind: a tier's oldest job has used half its target (a burst no rate has shown yet) →
        // one more than is active. In a quiet hour not while a start is on its way (the first job
        // after zero waits for it; one more per tick would pile up resumes for a single job).
        if (_o.TargetSeconds.Any(t => s.Queue(t.Key).OldestWaitSeconds > t.Value / 2) && active.Count > 0 && !(coldNow && PoolRules.Resuming(s)))
        {
            target = Math.Max(target, active.Count + 1);
            why = "a tier's oldest job has waited half its target";
        }

        var surplusSince = s.Memory.SurplusSince;
        if (target > active.Count)
        {
            surplusSince = null;
            var missing = target - active.Count;
            foreach (var standby in s.Instances.Where(i => i.WarmIdle && i.Health != InstanceHealth.Down).OrderBy(i => i.Since).Take(missing))
            {
                actions.Add(new ResumeAction(standby.Id, $"{target} HOT wanted: {why}; {active.Count} active"));
                missing--;
            }

            var renting = s.Instances.Count(i => i.Renting);
            for (var i = renting; i < missing && PoolRules.MayRent(s); i++)
            {
                actions.Add(new RentAction(s.GpuType, ResumeWhenWarm: true, $"{target} HOT wanted and no standby left: {why}"));
            }
        }
        else if (target < active.Count)
        {
            var running = PoolRules.Running(s).OrderBy(i => i.State == InstanceState.Serving).ThenByDescending(i => i.Since).ToList();
            if (target == 0 && running.Count > 0)
            {
                // Quiet and idle for the keep-alive: down to zero at once (the idle time already passed).
                foreach (var victim in running.Where(i => i.State != InstanceState.Serving))
                {
                    actions.Add(new StopAction(victim.Id, $"scale to zero: {why}"));
                }

                surplusSince = null;
            }
            else
            {
                surplusSince ??= s.Now;
                var down = Math.Max(1, Math.Max(Needed(measured.ToDictionary(kv => kv.Key, kv => kv.Value * _o.DownHeadroom), s.ServiceSecondsPerJob), ahead));
                running = running.Where(i => !KeptForOnDemand(s, i, active, measured)).ToList();
                if (down < active.Count && s.Now - surplusSince >= _o.ScaleInAfter && running.Count > 0)
                {
                    actions.Add(new StopAction(running[0].Id, $"{down} HOT would do at {_o.DownHeadroom}× the rate and the forecast, for {_o.ScaleInAfter.TotalMinutes:0} min; {active.Count} active"));
                    surplusSince = s.Now;
                }
            }
        }
        else
        {
            surplusSince = null;
        }

        OnDemand(s, actions, active, measured, forecastPeak is { } fp ? profile.Split(fp) : null, coldNow);

        // Standbys: what the forecast needs within a rent's time, and one for the first job after a
        // quiet spell (on a cloud that can stop; on one that cannot, a standby would bill HOT).
        var rentAhead = profile.PeakRate(s.Now, _o.RentLead) is { } r ? Needed(profile.Split(r), s.ServiceSecondsPerJob) : 0;
        var held = Math.Max(Math.Max(target, rentAhead), s.Capabilities.CanStop ? 1 : 0);
        var forecast = $"{held} forecast within {_o.RentLead.TotalMinutes:0} min";
        PoolRules.HoldRented(s, actions, held, _o.ExpectedRentTime, _o.ColdStartPenaltyUsd, forecast, forecast);

        // Free is refused for overload, not for a cold start it is waiting out.
        var free = s.Queue(Tier.Free).OldestWaitSeconds;
        if (free > _o.FreeRefuseAfterSeconds && active.Count > 0 && !PoolRules.Resuming(s))
        {
            actions.Add(new RefuseTierAction(Tier.Free, $"Free jobs waiting {free:0} s > {_o.FreeRefuseAfterSeconds} s: server busy"));
        }

        return new PoolDecision(actions, memory with { PrimaryId = PoolRules.Primary(s), SurplusSince = surplusSince });
    }

    /// <summary>On-demand instances the on-demand tiers need: resumed (a WARM on-demand standby) or
    /// rented (<see cref="ForecastPolicyOptions.OnDemandGpuType"/>) when fewer are active; in a
    /// quiet hour only while such a job waits or for real load.</summary>
    private void OnDemand(PoolSnapshot s, List<PoolAction> actions, List<InstanceView> active, Dictionary<Tier, double> measured, Dictionary<Tier, double>? forecast, bool coldNow)
    {
        if (_o.OnDemandTiers.Count == 0)
        {
            return;
        }

        var need = OnDemandNeed(s, measured, forecast, coldNow);
        var resumed = actions.OfType<ResumeAction>().Select(a => a.InstanceId).ToHashSet();
        var have = active.Count(i => !Spot(s, i)) + s.Instances.Count(i => resumed.Contains(i.Id) && !Spot(s, i));
        foreach (var standby in s.Instances.Where(i => i.WarmIdle && !Spot(s, i) && !resumed.Contains(i.Id) && i.Health != InstanceHealth.Down).OrderBy(i => i.Since))
        {
            if (have >= need)
            {
                return;
            }

            actions.Add(new ResumeAction(standby.Id, $"{need} on-demand HOT wanted for {string.Join(", ", _o.OnDemandTiers)} (no spot); {have} active"));
            have++;
        }

        var type = _o.OnDemandGpuType ?? s.PriceList.Where(o => !o.Spot).OrderBy(o => o.HotPerHour).FirstOrDefault()?.GpuType;
        var renting = s.Instances.Count(i => i.Renting && !Spot(s, i));
        for (var i = have + renting; i < need && type is not null && PoolRules.MayRent(s); i++)
        {
            actions.Add(new RentAction(type, ResumeWhenWarm: true, $"{need} on-demand HOT wanted for {string.Join(", ", _o.OnDemandTiers)} (no spot); {have} active, no on-demand standby"));
        }
    }

    private int OnDemandNeed(PoolSnapshot s, Dictionary<Tier, double> measured, Dictionary<Tier, double>? forecast, bool coldNow)
    {
        Dictionary<Tier, double> Only(Dictionary<Tier, double> rates) => rates.Where(kv => _o.OnDemandTiers.Contains(kv.Key)).ToDictionary();
        var need = Math.Max(Needed(Only(measured), s.ServiceSecondsPerJob), forecast is null ? 0 : Needed(Only(forecast), s.ServiceSecondsPerJob));
        var waiting = _o.OnDemandTiers.Any(t => s.Queue(t).Depth > 0 || s.Queue(t).OldestWaitSeconds > 0);
        return coldNow ? Math.Max(need >= 2 ? need : 0, waiting ? 1 : 0) : need;
    }

    private bool KeptForOnDemand(PoolSnapshot s, InstanceView instance, List<InstanceView> active, Dictionary<Tier, double> measured) =>
        _o.OnDemandTiers.Count > 0 && !Spot(s, instance) && active.Count(i => !Spot(s, i)) <= OnDemandNeed(s, measured, null, coldNow: false);

    private static bool Spot(PoolSnapshot s, InstanceView i) => s.Offer(i.GpuType).Spot;

    /// <summary>The arrival rate above which scaling to zero costs more than it saves: with jobs
    /// at rate λ, a HOT instance idle for the keep-alive is stopped about λ·e^(−λ·keepAlive) times
    /// an hour, each stop costing a resume plus the keep-alive at the HOT rate; holding it HOT
    /// instead costs HOT − WARM per hour.</summary>
    private double BreakEvenRate(PoolSnapshot s)
    {
        var offer = s.Offer(s.GpuType);
        var hot = (double)offer.HotPerHour;
        if (hot <= 0)
        {
            return double.PositiveInfinity;
        }

        var saving = hot - (double)offer.WarmPerHour; // per hour, by holding no HOT instance
        var perStart = (_o.ExpectedResume + _o.KeepAlive).TotalHours * hot;
        var k = _o.KeepAlive.TotalSeconds;
        double lo = 0, hi = 1; // jobs per second; the cost of starts rises with λ up to 1/keepAlive
        for (var i = 0; i < 60; i++)
        {
            var mid = (lo + hi) / 2;
            var startsPerHour = mid * 3600 * Math.Exp(-mid * k);
            if (startsPerHour * perStart < saving && mid < 1 / k)
            {
                lo = mid;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    /// <summary>Quiet now and still quiet a resume from now (no HOT instance is let go just before the morning).</summary>
    private bool IsCold(PoolSnapshot s, bool[] cold) => cold[s.Now.UtcDateTime.Hour] && cold[(s.Now + _o.ResumeLead).UtcDateTime.Hour];

    private static double Rate(IReadOnlyDictionary<Tier, double> rates) => rates.Values.Sum();
}

/// <summary>Finds the forecast policy inside the wrappers (limits, GPU by load).</summary>
public static class PolicyUnwrap
{
    public static ForecastPolicy? Forecast(IPoolPolicy policy) => policy switch
    {
        ForecastPolicy f => f,
        LimitedPolicy l => Forecast(l.Inner),
        GpuByLoadPolicy g => Forecast(g.Inner),
        _ => null,
    };
}
