using Actors.Fleet.Planning;

namespace Actors.Fleet.Policies;

/// <summary>Seed 000's "GPU by load" as an option over any policy: each instance it rents is of the
/// GPU type the seed picks for the measured load (under 10 jobs/h an RTX A4000, under 100 an RTX
/// 4090, above that an RTX A6000), when the provider offers it; otherwise the pool's own type.</summary>
public sealed class GpuByLoadPolicy(IPoolPolicy inner) : IPoolPolicy
{
    public string Name => inner.Name + "-by-load";

    public IPoolPolicy Inner => inner;

    public PoolDecision Decide(PoolSnapshot s)
    {
        var decision = inner.Decide(s);
        var perHour = s.Queues.Values.Sum(q => q.ArrivalPerSecond) * 3600;
        var type = Offered(s, CapacityPlanner.ChooseByLoad(perHour).Gpu);
        if (type is null)
        {
            return decision;
        }

        var actions = decision.Actions
            .Select(a => a is RentAction rent && rent.GpuType != type
                ? rent with { GpuType = type, Reason = $"{rent.Reason}; {type} for {perHour:0} jobs/h (seed 000)" }
                : a)
            .ToList();
        return decision with { Actions = actions };
    }

    /// <summary>The price-list type for a seed GPU name ("RTX A4000" → "rtx-a4000"), if offered.</summary>
    internal static string? Offered(PoolSnapshot s, string seedName)
    {
        var slug = GpuProfile.Slug(seedName);
        return s.PriceList.Where(o => GpuProfile.IsType(seedName, o.GpuType))
            .OrderBy(o => o.GpuType == slug ? 0 : 1).ThenBy(o => o.HotPerHour).Select(o => o.GpuType).FirstOrDefault();
    }
}
