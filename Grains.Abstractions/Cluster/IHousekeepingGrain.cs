namespace Actors.Grains.Cluster;

/// <summary>The cluster's periodic chores (key "cluster"), driven by a durable reminder so exactly
/// one control silo runs each pass: expire jobs that waited too long, purge finished jobs and
/// their outputs after the retention period.</summary>
public interface IHousekeepingGrain : IGrainWithStringKey, IRemindable
{
    /// <summary>Registers the periodic reminder (idempotent).</summary>
    Task StartAsync(TimeSpan period);

    /// <summary>One pass now; returns what it did.</summary>
    Task<HousekeepingReport> SweepAsync();
}
