using Actors.Grains.Instances;
using Actors.Grains.Tenants;

namespace Actors.Fleet.Policies;

public sealed record SloPolicyOptions
{
    /// <summary>Seed 003's wait targets per tier, seconds: Pro (and Enterprise) max 30 s, Premium 2 min, Free 5 min.</summary>
    public static IReadOnlyDictionary<Tier, double> SeedTargets { get; } = new Dictionary<Tier, double>
    {
        [Tier.Enterprise] = 30,
        [Tier.Pro] = 30,
        [Tier.Premium] = 120,
        [Tier.Free] = 300,
    };

    /// <summary>p95 wait target per tier, seconds (<see cref="SeedTargets"/>).</summary>
    public IReadOnlyDictionary<Tier, double> TargetSeconds { get; init; } = SeedTargets;

    public double Percentile { get; init; } = 0.95;

    /// <summary>Scale out for the measured rate × this (covers the minutes a resume takes while
    /// the rate is still rising).</summary>
    public double UpHeadroom { get; init; } = 1.0;

    /// <summary>Scale in only when one instance fewer would still meet the targets at the
    /// measured rate × this, for <see cref="ScaleInAfter"/> — the gap between the two headrooms
    /// is the hysteresis that keeps a constant load from flapping.</summary>
    public double DownHeadroom { get; init; } = 1.2;

    public TimeSpan ScaleInAfter { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>What one cold start costs besides the rent time (billed at the WARM rate): the
    /// risk that capacity is 30–60 min away when wanted, in dollars. It sets how long an idle
    /// WARM instance is worth holding: while warm $/h × idle hours &lt; the cold start's cost.</summary>
    public decimal ColdStartPenaltyUsd { get; init; } = 0.10m;

    /// <summary>How far ahead yesterday's need (per hour of day) is held WARM: a rent's 30–60 min
    /// and an hour's margin.</summary>
    public TimeSpan Lookahead { get; init; } = TimeSpan.FromHours(1.5);

    public TimeSpan ExpectedRentTime { get; init; } = TimeSpan.FromMinutes(45);

    public double FreeRefuseAfterSeconds { get; init; } = 60;
}

/// <summary>Holds as many HOT instances as Erlang C says the measured arrival rate needs for each
/// tier's p95 wait target (priority: a tier's wait drains at the capacity left by the tiers
/// ahead of it), scales in slowly and with hysteresis, keeps WARM the instances yesterday's
/// peak needed while holding them is cheaper than a cold start, and rents only what the WARM
/// pool cannot cover.</summary>
public sealed class SloPolicy(SloPolicyOptions? options = null) : IPoolPolicy
{
    private readonly SloPolicyOptions _o = options ?? new SloPolicyOptions();

    public string Name => "slo";

    public SloPolicyOptions Options => _o;

    /// <summary>HOT instances needed for every tier's target at arrival rates × <paramref name="headroom"/> (at least 1).</summary>
    public int Needed(PoolSnapshot s, double headroom) =>
        Math.Max(1, ErlangNeed.Servers(s.Queues.ToDictionary(q => q.Key, q => q.Value.ArrivalPerSecond * headroom), s.ServiceSecondsPerJob, _o.TargetSeconds, _o.Percentile,
            waiting: s.Queues.Where(q => q.Value.Depth > 0).Select(q => q.Key)));

    public PoolDecision Decide(PoolSnapshot s)
    {
        var actions = new List<PoolAction>();
        var memory = s.Memory;
        var primary = PoolRules.Primary(s);
        var active = s.Instances.Where(i => i.Active).ToList();
        var up = Math.Max(Needed(s, _o.UpHeadroom), 1);
        var down = Math.Max(Needed(s, _o.DownHeadroom), 1);

        // Behind: a tier's oldest job has used half its target (a burst the rate has not shown
        // yet) → one more than is active, whatever the rate says.
        var behind = _o.TargetSeconds.Where(t => s.Queue(t.Key).OldestWaitSeconds > t.Value / 2).Select(t => t.Key).ToList();
        if (behind.Count > 0)
        {
            up = Math.Max(up, active.Count + 1);
            down = Math.Max(down, up);
        }

        // Remember the need per hour of the day from the arrival rate alone (bursts pass), for the
        // WARM pool ahead of tomorrow's peak.
        var hour = s.Now.UtcDateTime.Hour;
        var byHour = (int[])memory.NeededByHour.Clone();
        if (memory.NeededHour != hour)
        {
            byHour[hour] = 0;
        }

        byHour[hour] = Math.Max(byHour[hour], Math.Max(Needed(s, _o.UpHeadroom), 1));
        var surplusSince = memory.SurplusSince;

        if (up > active.Count)
        {
            surplusSince = null;
            var missing = up - active.Count;
            foreach (var standby in s.Instances.Where(i => i.WarmIdle && i.Health != InstanceHealth.Down).OrderBy(i => i.Since).Take(missing))
            {
                actions.Add(new ResumeAction(standby.Id, $"{up} HOT needed for the p95 targets at {Rate(s):0.000} jobs/s, {active.Count} active"));
                missing--;
            }

            var renting = s.Instances.Count(i => i.Renting);
            for (var i = renting; i < missing && PoolRules.MayRent(s); i++)
            {
                actions.Add(new RentAction(s.GpuType, ResumeWhenWarm: true, $"{up} HOT needed and no standby left"));
            }
        }
        else if (down < active.Count)
        {
            surplusSince ??= s.Now;
            var running = PoolRules.Running(s).Where(i => i.Id != primary).ToList();
            if (s.Now - surplusSince >= _o.ScaleInAfter && running.Count > 0)
            {
                // The newest non-primary, idle ones first: it has the least left to finish.
                var victim = running.OrderBy(i => i.State == InstanceState.Serving).ThenByDescending(i => i.Since).First();
                actions.Add(new StopAction(victim.Id, $"{down} HOT would do at {_o.DownHeadroom}× the rate for {_o.ScaleInAfter.TotalMinutes:0} min; {active.Count} active"));
                surplusSince = s.Now;
            }
        }
        else
        {
            surplusSince = null;
        }

        // WARM pool, from the time of day: hold what the next hours needed yesterday (a rent takes
        // 30–60 min, so it is started ahead); release a standby nobody will need soon once holding
        // it has cost more than renting it again would.
        var heldTarget = up;
        for (var ahead = 0; ahead <= (int)Math.Ceiling(_o.Lookahead.TotalHours); ahead++)
        {
            heldTarget = Math.Max(heldTarget, byHour[(hour + ahead) % 24]);
        }

        var needed = $"{heldTarget} needed within {_o.Lookahead.TotalHours:0.#} h";
        PoolRules.HoldRented(s, actions, heldTarget, _o.ExpectedRentTime, _o.ColdStartPenaltyUsd, needed, needed + " (yesterday at this time)");

        var free = s.Queue(Tier.Free).OldestWaitSeconds;
        if (free > _o.FreeRefuseAfterSeconds)
        {
            actions.Add(new RefuseTierAction(Tier.Free, $"Free jobs waiting {free:0} s > {_o.FreeRefuseAfterSeconds} s: server busy"));
        }

        return new PoolDecision(actions, memory with { PrimaryId = primary, SurplusSince = surplusSince, NeededByHour = byHour, NeededHour = hour });
    }

    private static double Rate(PoolSnapshot s) => s.Queues.Values.Sum(q => q.ArrivalPerSecond);
}
