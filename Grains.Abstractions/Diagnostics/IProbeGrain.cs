using Orleans.Concurrency;
namespace Actors.Grains.Diagnostics;

/// <summary>A counter for checking the cluster's single-writer guarantee from outside
/// (<c>POST /admin/probe/{key}/increment</c> on every silo, then compare the count).</summary>
public interface IProbeGrain : IGrainWithStringKey
{
    Task<long> IncrementAsync();

    [ReadOnly]
    Task<long> GetAsync();
}
