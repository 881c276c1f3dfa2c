using Actors.Grains.Stores;

namespace Actors.Grains.Jobs;

/// <summary>What erasing a job's data did: the job (now marked), the blobs deleted or kept (another
/// live job of the tenant still references them), and the cache entries it had produced.</summary>
[GenerateSerializer(GenerateFieldIds = GenerateFieldIds.PublicProperties), Immutable]
public sealed record JobErasure([Id(1498780749U)] JobSnapshot Job, [Id(1689212507U)] ErasureCount Blobs, [Id(3245806872U)] int CacheEntries);
