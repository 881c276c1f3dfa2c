namespace Actors.Grains.Stores;

/// <summary>What usage analytics reads: jobs per day, tenant and model; finished jobs' times (at
/// most the limit asked for); refused submissions per day, tenant and reason.</summary>
public sealed record UsageRows(IReadOnlyList<UsageRows.Day> PerDay, IReadOnlyList<UsageRows.Finished> FinishedJobs, IReadOnlyList<UsageRows.Refusals> Refused)
{
    /// <summary>Jobs created on one UTC day (yyyy-MM-dd) by one tenant for one model.</summary>
    public sealed record Day(string Date, string TenantId, string Model, long Jobs, long Succeeded, long Failed, long CacheHits);

    /// <summary>A succeeded job: total time, time waiting in the queue, the model's run time.</summary>
    public sealed record Finished(string Model, long TotalMs, long? WaitMs, double? RunMs, bool CacheHit);

    /// <summary>Refused submissions on one UTC day (yyyy-MM-dd) of one tenant for one reason.</summary>
    public sealed record Refusals(string Date, string TenantId, string Reason, long Count);
}
