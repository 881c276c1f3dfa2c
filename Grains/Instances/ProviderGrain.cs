using Actors.Fleet.Providers;
using Orleans.Concurrency;

namespace Actors.Grains.Instances;

/// <summary>Runs a provider's operations on a control silo (see <see cref="IProviderGrain"/>).
/// Reentrant: the providers are thread-safe, and one slow operation must not hold up the others.</summary>
[Reentrant]
[Hosting.ControlPlacement]
public sealed class ProviderGrain(InstanceProviders? providers = null) : Grain, IProviderGrain
{
    private IInstanceProvider Provider => (providers ?? throw Unknown()).Has(Name) ? providers.Get(Name) : throw Unknown();

    private string Name => this.GetPrimaryKeyString();

    public Task<ProviderDescription?> DescribeAsync() =>
        Task.FromResult(providers is not null && providers.Has(Name) ? new ProviderDescription(providers.Get(Name).PriceList, providers.Get(Name).Capabilities) : null);

    public Task<ProviderTicket> RentAsync(string instanceId, string gpuType) => Provider.RentAsync(instanceId, gpuType);

    public Task<ProviderTicket> ResumeAsync(string instanceId) => Provider.ResumeAsync(instanceId);

    public Task<ProviderTicket> StopAsync(string instanceId) => Provider.StopAsync(instanceId);

    public Task<ProviderTicket> ReleaseAsync(string instanceId) => Provider.ReleaseAsync(instanceId);

    public Task<ProviderStatus> StatusAsync(string instanceId) => Provider.StatusAsync(instanceId);

    private ProviderException Unknown() =>
        new("unknown_provider", $"no instance provider '{Name}' on the control plane (there are: {string.Join(", ", (providers?.Names ?? []).Order(StringComparer.Ordinal))})");
}

/// <summary>A provider as an instance grain uses it: its price list as of now, its operations
/// through <see cref="IProviderGrain"/>.</summary>
internal sealed class RemoteProvider(string name, ProviderDescription description, IProviderGrain grain) : IInstanceProvider
{
    public string Name => name;

    public IReadOnlyList<GpuOffer> PriceList => description.PriceList;

    public ProviderCapabilities Capabilities => description.Capabilities;

    public Task<ProviderTicket> RentAsync(string instanceId, string gpuType, CancellationToken cancellationToken = default) => grain.RentAsync(instanceId, gpuType);

    public Task<ProviderTicket> ResumeAsync(string instanceId, CancellationToken cancellationToken = default) => grain.ResumeAsync(instanceId);

    public Task<ProviderTicket> StopAsync(string instanceId, CancellationToken cancellationToken = default) => grain.StopAsync(instanceId);

    public Task<ProviderTicket> ReleaseAsync(string instanceId, CancellationToken cancellationToken = default) => grain.ReleaseAsync(instanceId);

    public Task<ProviderStatus> StatusAsync(string instanceId, CancellationToken cancellationToken = default) => grain.StatusAsync(instanceId);
}
