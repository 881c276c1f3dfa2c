using Actors.Storage.Sql;
using Dapper;

namespace Actors.Storage.OrleansProviders;

/// <summary>Reads Orleans' grain-storage rows of one state name directly (a listing of every
/// grain of a kind without a call to each), in the table our migrations create.</summary>
public sealed class GrainStateRows(SqlStore store)
{
    /// <summary>The grain keys that have state under <paramref name="stateName"/>, in order.</summary>
    public Task<IReadOnlyList<string>> KeysAsync(string serviceId, string stateName, CancellationToken cancellationToken = default) =>
        store.ReadAsync<IReadOnlyList<string>>(async c => (await c.QueryAsync<string>(
            """
            SELECT GrainIdExtensionString FROM OrleansStorage
            WHERE ServiceId = @ServiceId AND GrainTypeString = @StateName AND PayloadBinary IS NOT NULL
            ORDER BY GrainIdExtensionString
            """,
            new { ServiceId = serviceId, StateName = stateName })).ToList(), cancellationToken);

    /// <summary>Each grain's key and stored payload under <paramref name="stateName"/>, in key order.</summary>
    public Task<IReadOnlyList<(string Key, byte[] Payload)>> ReadAllAsync(string serviceId, string stateName, CancellationToken cancellationToken = default) =>
        store.ReadAsync<IReadOnlyList<(string, byte[])>>(async c => (await c.QueryAsync<(string, byte[])>(
            """
            SELECT GrainIdExtensionString, PayloadBinary FROM OrleansStorage
            WHERE ServiceId = @ServiceId AND GrainTypeString = @StateName AND PayloadBinary IS NOT NULL
            ORDER BY GrainIdExtensionString
            """,
            new { ServiceId = serviceId, StateName = stateName })).ToList(), cancellationToken);
}
