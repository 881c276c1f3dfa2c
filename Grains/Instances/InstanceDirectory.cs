using Actors.Storage.OrleansProviders;
using Actors.Storage.Sql;
using Dapper;
using Microsoft.Extensions.Options;
using OrleansClusterOptions = Orleans.Configuration.ClusterOptions;

namespace Actors.Grains.Instances;

/// <summary>Every instance grain that has state: the fleet as the store knows it (the rows of
/// Orleans' grain storage under the instance grain's state name, in this service). Listings read
/// the committed states here, not through the grains: an instance grain lives on its GPU host, and
/// a host that has just died must not stall the dashboard, the metrics or the autoscaler.</summary>
public sealed class InstanceDirectory(SqlStore store, IOptions<OrleansClusterOptions> cluster, TimeProvider time)
{
    /// <summary>The instance grain's [PersistentState] name: its rows' GrainTypeString.</summary>
    public const string StateName = "instance";

    private static readonly JsonGrainStateSerializer Serializer = new();

    public Task<IReadOnlyList<string>> ListIdsAsync(CancellationToken cancellationToken = default) =>
        store.ReadAsync<IReadOnlyList<string>>(async c => (await c.QueryAsync<string>(
            """
            SELECT GrainIdExtensionString FROM OrleansStorage
            WHERE ServiceId = @ServiceId AND GrainTypeString = @StateName AND PayloadBinary IS NOT NULL
            ORDER BY GrainIdExtensionString
            """,
            new { cluster.Value.ServiceId, StateName })).ToList(), cancellationToken);

    /// <summary>Each instance as last committed (what its grain's GetAsync says, without calling it).</summary>
    public async Task<IReadOnlyList<InstanceSnapshot>> SnapshotsAsync(CancellationToken cancellationToken = default)
    {
        var rows = await store.ReadAsync(async c => (await c.QueryAsync<(string Id, byte[] Payload)>(
            """
            SELECT GrainIdExtensionString, PayloadBinary FROM OrleansStorage
            WHERE ServiceId = @ServiceId AND GrainTypeString = @StateName AND PayloadBinary IS NOT NULL
            ORDER BY GrainIdExtensionString
            """,
            new { cluster.Value.ServiceId, StateName })).ToList(), cancellationToken);
        var now = time.GetUtcNow();
        return [.. rows.Select(r => InstanceLifecycle.Snapshot(r.Id, Serializer.Deserialize<InstanceRecord>(new BinaryData(r.Payload)), now))];
    }
}
