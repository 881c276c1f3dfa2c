using Actors.Fleet.Providers;

namespace Actors.Grains.Instances;

/// <summary>An instance provider (key: its name) on the control plane: instance grains, which live
/// on their GPU hosts, drive their provider through it, so provider operations (renting, starting
/// and ending processes, a cloud's API) run where the provider and its state are.</summary>
public interface IProviderGrain : IGrainWithStringKey
{
    /// <summary>What can be rented and what its machines can do; null when no silo of the
    /// control plane has this provider.</summary>
    Task<ProviderDescription?> DescribeAsync();

    Task<ProviderTicket> RentAsync(string instanceId, string gpuType);

    Task<ProviderTicket> ResumeAsync(string instanceId);

    Task<ProviderTicket> StopAsync(string instanceId);

    Task<ProviderTicket> ReleaseAsync(string instanceId);

    Task<ProviderStatus> StatusAsync(string instanceId);
}
