namespace Actors.Storage.Queue;

/// <summary>A job to queue: its id, model, tier (0 = Free … 3 = Enterprise), retry budget and
/// result-cache key (hosts run identical jobs they hold once).</summary>
public sealed record QueuedJob(string JobId, string Model, int Tier, int MaxAttempts = 3, string? CacheKey = null);
