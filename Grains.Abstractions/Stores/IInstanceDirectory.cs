using Actors.Grains.Instances;

namespace Actors.Grains.Stores;

/// <summary>Every instance as last committed, read from storage without calling the grains (an
/// instance grain lives on its GPU host, and a host that has just died must not stall a listing).</summary>
public interface IInstanceDirectory
{
    /// <summary>The ids of every instance that has state, in order.</summary>
    Task<IReadOnlyList<string>> ListIdsAsync(CancellationToken cancellationToken = default);

    Task<IReadOnlyList<InstanceSnapshot>> SnapshotsAsync(CancellationToken cancellationToken = default);
}
