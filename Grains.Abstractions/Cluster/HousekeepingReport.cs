namespace Actors.Grains.Cluster;

/// <summary>What one housekeeping pass did.</summary>
[GenerateSerializer(GenerateFieldIds = GenerateFieldIds.PublicProperties), Immutable]
public sealed record HousekeepingReport([Id(2311455675U)] int Expired, [Id(2277161487U)] int Purged, [Id(2543440199U)] int CacheEntriesDropped, [Id(3742049519U)] int BlobsDeleted, [Id(3303322396U)] int IdempotencyKeysDropped, [Id(3441249015U)] int Requeued);
