using Actors.Grains.Stores;

namespace Actors.Grains.Cluster;

/// <summary>What erasing a tenant's data did so far: jobs marked, blobs deleted, cache entries
/// dropped. <see cref="Complete"/> once every job is done, the tenant's space emptied and the
/// audit row written; until then <see cref="Resume"/> is where the next pass starts.</summary>
[GenerateSerializer(GenerateFieldIds = GenerateFieldIds.PublicProperties), Immutable]
public sealed record TenantErasure(string TenantId, int Jobs, ErasureCount Blobs, int CacheEntries, bool Complete = true, string? Resume = null)
{
    public static TenantErasure Start(string tenantId) => new(tenantId, 0, ErasureCount.None, 0, Complete: false);
}
