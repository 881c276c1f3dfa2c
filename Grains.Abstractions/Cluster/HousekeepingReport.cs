namespace Actors.Grains.Cluster;

/// <summary>What one housekeeping pass did.</summary>
[GenerateSerializer(GenerateFieldIds = GenerateFieldIds.PublicProperties), Immutable]
public sealed record HousekeepingReport(int Expired, int Purged, int CacheEntriesDropped, int BlobsDeleted, int IdempotencyKeysDropped, int Requeued);
