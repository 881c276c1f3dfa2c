namespace Actors.Grains.Jobs;

/// <summary>A job as the index lists it.</summary>
public sealed record JobListing(string JobId, string TenantId, string Model, int Tier, JobStatus Status, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);
