namespace Actors.Storage.Queue;

/// <summary>A claimed job: held by one GPU host until <see cref="Until"/> unless renewed.</summary>
public sealed record JobLease(string JobId, string Model, int Tier, int Attempt, DateTimeOffset EnqueuedAt, DateTimeOffset Until, string? CacheKey = null);
