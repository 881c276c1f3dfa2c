namespace Actors.Grains.Cluster;

/// <summary>How long jobs may wait, and how long finished jobs, outputs and cache entries are kept;
/// how many jobs one pass of a tenant's erasure takes on (each pass is one grain call, well under
/// the call time-out however many jobs the tenant has).</summary>
public sealed record RetentionPolicy(TimeSpan MaxQueueTime, TimeSpan Retention, int ErasureJobsPerPass = 200);
