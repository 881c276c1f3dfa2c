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

    /// <summary>Running instances (settled HOT or SERVING, nothing in flight), oldest first.</summary>
    public static IEnumerable<InstanceView> Running(PoolSnapshot s) =>
        s.Instances.Where(i => i.State is Grains.Instances.InstanceState.Hot or Grains.Instances.InstanceState.Serving && i.Pending is null)
            .OrderBy(i => i.Since).ThenBy(i => i.Id, StringComparer.Ordinal);
}
