using Actors.Fleet.Queueing;
using Actors.Grains.Tenants;

namespace Actors.Fleet.Policies;

/// <summary>How many HOT instances arrival rates per tier need for every tier's wait target, by
/// Erlang C with priority: a tier's wait drains at the capacity left by the tiers ahead of it.</summary>
public static class ErlangNeed
{
    /// <summary>0 when nothing arrives (and no tier in <paramref name="waiting"/> has jobs queued);
    /// at most 200.</summary>
    public static int Servers(IReadOnlyDictionary<Tier, double> rates, double serviceSeconds, IReadOnlyDictionary<Tier, double> targets, double percentile, IEnumerable<Tier>? waiting = null)
    {
        var mu = 1 / Math.Max(0.001, serviceSeconds);
        var total = rates.Values.Sum();
        if (total <= 1e-9)
        {
            return 0;
        }

        var queued = waiting?.ToHashSet() ?? [];
        var need = 1;
        foreach (var (tier, target) in targets)
        {
            var ahead = rates.Where(q => q.Key >= tier).Sum(q => q.Value);
            if (ahead <= 0 && !queued.Contains(tier))
            {
                continue;
            }

            need = Math.Max(need, ErlangC.ServersFor(total, mu, target, percentile, maxServers: 200, drainArrivalPerSecond: ahead) ?? 200);
        }

        return need;
    }
}
