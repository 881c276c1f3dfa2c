namespace Actors.Fleet.Policies;

/// <summary>Small pieces both policies use.</summary>
internal static class PoolRules
{
    /// <summary>The primary: the remembered one while it is active, else the longest-running
    /// active instance (null when none is active).</summary>
    public static string? Primary(PoolSnapshot s)
    {
        if (s.Memory.PrimaryId is { } id && s.Instances.Any(i => i.Id == id && i.Active))
        {
            return id;
        }

        return s.Instances.Where(i => i.Active).OrderBy(i => i.Since).ThenBy(i => i.Id, StringComparer.Ordinal).FirstOrDefault()?.Id;
    }

    public static InstanceView? OldestWarmIdle(PoolSnapshot s) =>
        s.Instances.Where(i => i.WarmIdle && i.Health != Grains.Instances.InstanceHealth.Down).OrderBy(i => i.Since).ThenBy(i => i.Id, StringComparer.Ordinal).FirstOrDefault();

    public static bool Resuming(PoolSnapshot s) => s.Instances.Any(i => i.Pending == Grains.Instances.InstanceState.Hot);

    public static bool RentInFlight(PoolSnapshot s) => s.Instances.Any(i => i.Renting);

    public static bool MayRent(PoolSnapshot s) => s.Memory.RentBackoffUntil is not { } until || s.Now >= until;

    /// <summary>Keeps <paramref name="held"/> instances rented: a WARM standby beyond it is released
    /// once holding it has cost more than renting it again would (its rent time at the WARM rate
    /// plus <paramref name="coldStartPenaltyUsd"/>); below it, one is rented (to WARM) unless a
    /// rent is already on its way. <paramref name="why"/> says where <paramref name="held"/> came from.</summary>
    public static void HoldRented(PoolSnapshot s, List<PoolAction> actions, int held, TimeSpan expectedRentTime, decimal coldStartPenaltyUsd, string why, string rentWhy)
    {
        var rented = s.Instances.Count(i => i.Rented);
        var offer = s.Offer(s.GpuType);
        var breakEven = offer.WarmPerHour > 0
            ? TimeSpan.FromHours((double)((offer.WarmPerHour * (decimal)expectedRentTime.TotalHours + coldStartPenaltyUsd) / offer.WarmPerHour))
            : TimeSpan.MaxValue;
        foreach (var warm in s.Instances.Where(i => i.WarmIdle).OrderBy(i => i.Since))
        {
            if (rented > held && s.Now - warm.Since > breakEven)
            {
                actions.Add(new ReleaseAction(warm.Id, $"WARM {(s.Now - warm.Since).TotalHours:0.0} h > break-even {breakEven.TotalHours:0.0} h; {rented} held, {why}"));
                rented--;
            }
        }

        if (rented < held && !RentInFlight(s) && MayRent(s) && !actions.OfType<RentAction>().Any())
        {
            actions.Add(new RentAction(s.GpuType, ResumeWhenWarm: false, $"{rentWhy}; {rented} held"));
        }
    }

    /// <summary>Running instances (settled HOT or SERVING, nothing in flight), oldest first.</summary>
    public static IEnumerable<InstanceView> Running(PoolSnapshot s) =>
        s.Instances.Where(i => i.State is Grains.Instances.InstanceState.Hot or Grains.Instances.InstanceState.Serving && i.Pending is null)
            .OrderBy(i => i.Since).ThenBy(i => i.Id, StringComparer.Ordinal);
}
