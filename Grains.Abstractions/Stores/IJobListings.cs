using Actors.Grains.Jobs;

namespace Actors.Grains.Stores;

/// <summary>The jobs' index (a row per job kept by its grain) as the API reads it: listings, the
/// dashboard's traffic, usage analytics, and the count of refused submissions.</summary>
public interface IJobListings
{
    /// <summary>Newest first; all tenants when <paramref name="tenantId"/> is null, any status when
    /// <paramref name="statuses"/> is null, else any of them.</summary>
    Task<IReadOnlyList<JobListing>> ListAsync(string? tenantId, IReadOnlyCollection<JobStatus>? statuses, int limit, CancellationToken cancellationToken = default);

    /// <summary>Per minute since <paramref name="since"/>: jobs submitted, succeeded and failed.</summary>
    Task<IReadOnlyList<JobsPerMinute>> PerMinuteAsync(DateTimeOffset since, CancellationToken cancellationToken = default);

    /// <summary>Jobs that succeeded or failed since <paramref name="since"/>.</summary>
    Task<long> FinishedSinceAsync(DateTimeOffset since, CancellationToken cancellationToken = default);

    /// <summary>Counts a refused submission (usage analytics).</summary>
    Task CountRefusalAsync(string tenantId, string reason);

    /// <summary>The rows usage analytics is computed from, for jobs created since <paramref name="from"/>.</summary>
    Task<UsageRows> UsageSinceAsync(DateTimeOffset from, int maxFinished, CancellationToken cancellationToken = default);
}
