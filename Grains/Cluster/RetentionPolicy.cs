namespace Actors.Grains.Cluster;

/// <summary>How long jobs may wait, and how long finished jobs, outputs and cache entries are kept.</summary>
public sealed record RetentionPolicy(TimeSpan MaxQueueTime, TimeSpan Retention);
