using Actors.Grains.Stores;

namespace Actors.Grains.Cluster;

/// <summary>What erasing a tenant's data did: jobs marked, blobs deleted, cache entries dropped.</summary>
[GenerateSerializer(GenerateFieldIds = GenerateFieldIds.PublicProperties), Immutable]
public sealed record TenantErasure(string TenantId, int Jobs, ErasureCount Blobs, int CacheEntries);
