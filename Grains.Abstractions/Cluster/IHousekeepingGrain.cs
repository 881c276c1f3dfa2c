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

    /// <summary>Erases everything a tenant stored: cancels its unfinished jobs, marks every job's
    /// data erased, drops its cache entries and deletes every blob in its space; one audit row.</summary>
    Task<TenantErasure> EraseTenantAsync(string tenantId, string actor);
}
