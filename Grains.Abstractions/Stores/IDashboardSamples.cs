namespace Actors.Grains.Stores;

/// <summary>The fleet samples the dashboard's charts draw: one per 5-second slot whichever API
/// silo writes it first, so every silo draws the same charts and a restarted one keeps its last hour.</summary>
public interface IDashboardSamples
{
    /// <summary>Records <paramref name="sample"/> unless its slot already has one; forgets old ones.</summary>
    Task AddAsync(DashboardSample sample, CancellationToken cancellationToken = default);

    /// <summary>The last hour's samples, oldest first.</summary>
    Task<IReadOnlyList<DashboardSample>> LastHourAsync(CancellationToken cancellationToken = default);
}
