namespace Actors.Grains.Cluster;

/// <summary>The cluster's periodic chores (key "cluster"), driven by a durable reminder so exactly
/// one control silo runs each pass: expire jobs that waited too long, purge finished jobs and
/// their data by class after their plan's retention, erase a tenant's data on request.</summary>
public interface IHousekeepingGrain : IGrainWithStringKey, IRemindable
{
    /// <summary>The one key it lives under.</summary>
    const string ClusterKey = "cluster";

    /// <summary>Registers the periodic reminder (idempotent).</summary>
    Task StartAsync(TimeSpan period);

    /// <summary>One pass now; returns what it did.</summary>
    Task<HousekeepingReport> SweepAsync();

    /// <summary>One pass of erasing everything a tenant stored: from <paramref name="soFar"/>'s
    /// resume point, the next jobs (their unfinished ones canceled, every job's data marked
    /// erased); the last pass drops its cache entries, deletes every blob in its space and writes
    /// one audit row with the totals. Call again with the answer until it is complete; the jobs
    /// submitted after the first pass began are left to their own erasure.</summary>
    Task<TenantErasure> EraseTenantAsync(TenantErasure soFar, string actor);
}
