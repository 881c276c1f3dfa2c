using Actors.Fleet.Providers;

namespace Actors.Fleet.Policies;

/// <summary>Wraps any policy with the operator's limits, which win over it:
/// <list type="bullet">
/// <item>min HOT: fewer active instances → resume a standby or rent; stops that would go below are dropped;</item>
/// <item>max instances: rents beyond it are dropped, with an alert;</item>
/// <item>daily budget cap: today's spend plus the current $/h until midnight (UTC) may not pass
/// the cap. Scale-outs that would pass it are dropped; if the fleet as it stands would pass it,
/// non-primary instances are stopped and standbys released (the primary last). Each raises an
/// alert. The cap beats min HOT: it is the one limit that is never exceeded.</item>
/// <item>a provider that cannot stop (<see cref="ProviderCapabilities.CanStop"/>, Lambda): a stop
/// becomes a release (the machine bills until it is gone), every rent goes straight to HOT, and a
/// rent for a WARM standby is dropped — such a provider has no WARM.</item>
/// </list></summary>
public sealed class LimitedPolicy(IPoolPolicy inner) : IPoolPolicy
{
    public string Name => inner.Name;

    public IPoolPolicy Inner => inner;

    public PoolDecision Decide(PoolSnapshot s)
    {
        var decision = WithinCapabilities(inner.Decide(s), s.Capabilities);
        var limits = s.Limits;
        var actions = new List<PoolAction>();
        var views = s.Instances.ToDictionary(i => i.Id);
        var active = s.Instances.Count(i => i.Active);
        var rented = s.Instances.Count(i => i.Rented);
        var rate = s.CurrentPerHour;
        // Five minutes beyond midnight: what stopping takes while it still bills.
        var hoursLeft = (decimal)s.HoursLeftToday + 1m / 12;
        var cap = limits.DailyBudgetUsd;
        var hadBudgetAlert = false;

        bool Affordable(decimal addedPerHour) => cap is not { } c || s.SpentTodayUsd + (rate + addedPerHour) * hoursLeft <= c;

        void BudgetAlert(string why)
        {
            if (!hadBudgetAlert)
            {
                actions.Add(new AlertAction("budget_cap", why));
                hadBudgetAlert = true;
            }
        }

        // Min HOT before the policy's own actions, so a rent it adds is checked like any other.
        var proposed = new List<PoolAction>();
        var resumed = decision.Actions.OfType<ResumeAction>().Select(a => a.InstanceId).ToHashSet();
        var rentsToHot = decision.Actions.OfType<RentAction>().Count(a => a.ResumeWhenWarm);
        var short_ = limits.MinHot - active - resumed.Count - s.Instances.Count(i => i.Renting) - rentsToHot;
        foreach (var standby in s.Instances.Where(i => i.WarmIdle && !resumed.Contains(i.Id)).OrderBy(i => i.Since))
        {
            if (short_ <= 0)
            {
                break;
            }

            proposed.Add(new ResumeAction(standby.Id, $"min HOT {limits.MinHot}: {active} active"));
            short_--;
        }

        for (; short_ > 0; short_--)
        {
            proposed.Add(new RentAction(s.GpuType, ResumeWhenWarm: true, $"min HOT {limits.MinHot}: {active} active and no standby"));
        }

        proposed.AddRange(decision.Actions);
        foreach (var action in proposed)
        {
            switch (action)
            {
                case RentAction rent:
                    if (rented >= limits.MaxInstances)
                    {
                        actions.Add(new AlertAction("max_instances", $"rent refused: {rented} instances held, max {limits.MaxInstances} ({rent.Reason})"));
                        continue;
                    }

                    var perHour = rent.ResumeWhenWarm ? s.Offer(rent.GpuType).HotPerHour : s.Offer(rent.GpuType).WarmPerHour;
                    if (!Affordable(perHour))
                    {
                        BudgetAlert($"rent refused: today's spend would pass the ${cap} cap ({rent.Reason})");
                        continue;
                    }

                    rented++;
                    rate += perHour;
                    actions.Add(action);
                    break;
                case ResumeAction resume when views.TryGetValue(resume.InstanceId, out var v):
                    var added = v.HotPerHour - v.CurrentPerHour;
                    if (!Affordable(added))
                    {
                        BudgetAlert($"resume refused: today's spend would pass the ${cap} cap ({resume.Reason})");
                        continue;
                    }

                    rate += added;
                    active++;
                    actions.Add(action);
                    break;
                case ReleaseAction release when views.TryGetValue(release.InstanceId, out var v) && v.Active:
                    if (active - 1 < limits.MinHot)
                    {
                        continue; // a release in place of a stop: min HOT holds as for a stop
                    }

                    rate -= v.CurrentPerHour;
                    active--;
                    rented--;
                    actions.Add(action);
                    break;
                case StopAction stop when views.TryGetValue(stop.InstanceId, out var v):
                    if (active - 1 < limits.MinHot)
                    {
                        continue;
                    }

                    rate -= v.HotPerHour - v.WarmPerHour;
                    active--;
                    actions.Add(action);
                    break;
                case ReleaseAction release when views.TryGetValue(release.InstanceId, out var v):
                    rate -= v.WarmPerHour;
                    rented--;
                    actions.Add(action);
                    break;
                default:
                    actions.Add(action);
                    break;
            }
        }

        // The fleet as it stands would pass the cap by midnight: shed until it would not.
        if (cap is { } limit && s.SpentTodayUsd + rate * hoursLeft > limit)
        {
            var stopping = actions.OfType<StopAction>().Select(a => a.InstanceId).Concat(actions.OfType<ReleaseAction>().Select(a => a.InstanceId)).ToHashSet();
            var primary = decision.Memory.PrimaryId;
            var sheddable = s.Instances.Where(i => i.Active && i.State != Grains.Instances.InstanceState.Cold && i.Pending is null && !stopping.Contains(i.Id))
                .OrderBy(i => i.Id == primary).ThenByDescending(i => i.Since).Cast<InstanceView?>()
                .Concat(s.Instances.Where(i => i.WarmIdle && !stopping.Contains(i.Id)));
            foreach (var victim in sheddable)
            {
                if (s.SpentTodayUsd + rate * hoursLeft <= limit)
                {
                    break;
                }

                if (victim!.Active && s.Capabilities.CanStop)
                {
                    actions.Add(new StopAction(victim.Id, $"daily budget cap ${limit}: the fleet would spend more by midnight"));
                    rate -= victim.HotPerHour - victim.WarmPerHour;
                }
                else if (victim.Active)
                {
                    actions.Add(new ReleaseAction(victim.Id, $"daily budget cap ${limit}: the fleet would spend more by midnight (the provider cannot stop: released)"));
                    rate -= victim.HotPerHour;
                }
                else
                {
                    actions.Add(new ReleaseAction(victim.Id, $"daily budget cap ${limit}: the fleet would spend more by midnight"));
                    rate -= victim.WarmPerHour;
                }
            }

            BudgetAlert($"the fleet would pass the ${limit} daily cap by midnight (spent ${s.SpentTodayUsd:0.00}, {rate:0.00} $/h after shedding)");
        }

        return decision with { Actions = actions };
    }

    /// <summary>The inner policy's actions as a provider that cannot stop can carry them out.</summary>
    private static PoolDecision WithinCapabilities(PoolDecision decision, ProviderCapabilities capabilities)
    {
        if (capabilities.CanStop)
        {
            return decision;
        }

        var actions = new List<PoolAction>(decision.Actions.Count);
        foreach (var action in decision.Actions)
        {
            switch (action)
            {
                case StopAction stop:
                    actions.Add(new ReleaseAction(stop.InstanceId, stop.Reason + " (the provider cannot stop: released)"));
                    break;
                case RentAction { ResumeWhenWarm: false }:
                    break; // a WARM standby: such a provider has none to keep
                case ResumeAction:
                    break; // nothing is WARM to resume
                default:
                    actions.Add(action);
                    break;
            }
        }

        return decision with { Actions = actions };
    }
}
