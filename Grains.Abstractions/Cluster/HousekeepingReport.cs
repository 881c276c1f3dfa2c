namespace Actors.Grains.Cluster;

/// <summary>What one housekeeping pass did.</summary>
public sealed record HousekeepingReport(int Expired, int Purged, int CacheEntriesDropped, int BlobsDeleted, int IdempotencyKeysDropped);
