namespace Actors.Grains.Stores;

/// <summary>What the API and the dashboards read from the durable job queue.</summary>
public interface IQueueReads
{
    /// <summary>How many jobs of the same model are ahead of this one; null if it is not waiting.</summary>
    Task<int?> PositionAsync(string jobId, CancellationToken cancellationToken = default);

    /// <summary>Waiting jobs per tier over all models, with when the oldest of each was enqueued
    /// (what the autoscaler sees).</summary>
    Task<IReadOnlyList<TierDepth>> TierStatsAsync(CancellationToken cancellationToken = default);

    /// <summary>Leased (running) jobs per host that holds them.</summary>
    Task<IReadOnlyDictionary<string, int>> LeasedPerHostAsync(CancellationToken cancellationToken = default);
}
