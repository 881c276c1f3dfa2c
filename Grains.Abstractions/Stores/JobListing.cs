using Actors.Grains.Jobs;

namespace Actors.Grains.Stores;

/// <summary>A job as the index lists it.</summary>
public sealed record JobListing(string JobId, string TenantId, string Model, int Tier, JobStatus Status, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);
