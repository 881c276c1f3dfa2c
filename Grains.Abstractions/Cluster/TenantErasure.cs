using Actors.Grains.Stores;

namespace Actors.Grains.Cluster;

/// <summary>What erasing a tenant's data did so far: jobs marked, blobs deleted, cache entries
/// dropped. <see cref="Complete"/> once every job is done, the tenant's space emptied and the
/// audit row written; until then <see cref="Resume"/> is where the next pass starts.</summary>
[GenerateSerializer(GenerateFieldIds = GenerateFieldIds.PublicProperties), Immutable]
public sealed record TenantErasure([Id(480056492U)] string TenantId, [Id(3429262358U)] int Jobs, [Id(1689212507U)] ErasureCount Blobs, [Id(3245806872U)] int CacheEntries, [Id(1152046765U)] bool Complete = true, [Id(3347946108U)] string? Resume = null)
{
    public static TenantErasure Start(string tenantId) => new(tenantId, 0, ErasureCount.None, 0, Complete: false);
}
