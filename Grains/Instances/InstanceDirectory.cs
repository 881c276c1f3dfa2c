using Actors.Grains.Stores;
using Actors.Storage.OrleansProviders;
using Microsoft.Extensions.Options;
using OrleansClusterOptions = Orleans.Configuration.ClusterOptions;

namespace Actors.Grains.Instances;

/// <summary>Every instance grain that has state: the fleet as the store knows it (the rows of
/// Orleans' grain storage under the instance grain's state name, in this service). Listings read
/// the committed states here, not through the grains: an instance grain lives on its GPU host, and
/// a host that has just died must not stall the dashboard, the metrics or the autoscaler.</summary>
public sealed class InstanceDirectory(GrainStateRows rows, IOptions<OrleansClusterOptions> cluster, TimeProvider time) : IInstanceDirectory
{
    /// <summary>The instance grain's [PersistentState] name: its rows' GrainTypeString.</summary>
    public const string StateName = "instance";

    private static readonly JsonGrainStateSerializer Serializer = new();

    public Task<IReadOnlyList<string>> ListIdsAsync(CancellationToken cancellationToken = default) =>
        rows.KeysAsync(cluster.Value.ServiceId, StateName, cancellationToken);

    /// <summary>Each instance as last committed (what its grain's GetAsync says, without calling it).</summary>
    public async Task<IReadOnlyList<InstanceSnapshot>> SnapshotsAsync(CancellationToken cancellationToken = default)
    {
        var stored = await rows.ReadAllAsync(cluster.Value.ServiceId, StateName, cancellationToken);
        var now = time.GetUtcNow();
        return [.. stored.Select(r => InstanceLifecycle.Snapshot(r.Key, Serializer.Deserialize<InstanceRecord>(new BinaryData(r.Payload)), now))];
    }
}
