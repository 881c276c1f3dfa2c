using Actors.Grains.Instances;
using Actors.Runtime.Sql;
using Dapper;

namespace Actors.Grains.Instances;

/// <summary>Every instance grain that has state: the fleet as the store knows it.</summary>
public sealed class InstanceDirectory(SqlStore store)
{
    public Task<IReadOnlyList<string>> ListIdsAsync(CancellationToken cancellationToken = default) =>
        store.ReadAsync<IReadOnlyList<string>>(async c => (await c.QueryAsync<string>(
            "SELECT grain_key FROM grain_state WHERE grain_type = @Type AND state IS NOT NULL ORDER BY grain_key",
            new { Type = nameof(IInstanceGrain) })).ToList(), cancellationToken);
}
