using Actors.Fleet.Providers;
using Actors.Grains.Instances;

namespace Actors.Silo.Fleet;

/// <summary>Provider "host": stops and resumes a GPU host that was started by hand (the embedded
/// silo's own, or one an operator runs), through its control door. It cannot rent or release:
/// those hosts are not ours to create or end.</summary>
internal sealed class HostControlProvider(HostControlClient hosts, TimeProvider time) : IInstanceProvider
{
    public string Name => InstanceProviders.HostProviderName;

    public IReadOnlyList<GpuOffer> PriceList => [];

    /// <summary>A host started by hand: stopped and resumed through its own door, never rented.</summary>
    public ProviderCapabilities Capabilities { get; } = ProviderCapabilities.Stoppable(TimeSpan.FromSeconds(10));

    public Task<ProviderTicket> RentAsync(string instanceId, string gpuType, CancellationToken cancellationToken = default) =>
        throw new ProviderException("invalid_state", $"instance '{instanceId}' was started by hand: it cannot be rented (start a GPU-host silo instead)");

    public Task<ProviderTicket> ReleaseAsync(string instanceId, CancellationToken cancellationToken = default) =>
        throw new ProviderException("invalid_state", $"instance '{instanceId}' was started by hand: stop its silo to release it");

    public async Task<ProviderTicket> ResumeAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        var status = await hosts.PostAsync(await AddressAsync(instanceId, cancellationToken), "resume", cancellationToken);
        return new ProviderTicket(instanceId, ProviderOperation.Resume, time.GetUtcNow(), TimeSpan.FromSeconds(status.LoadSeconds ?? 10));
    }

    public async Task<ProviderTicket> StopAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        await hosts.PostAsync(await AddressAsync(instanceId, cancellationToken), "stop", cancellationToken);
        return new ProviderTicket(instanceId, ProviderOperation.Stop, time.GetUtcNow(), TimeSpan.FromSeconds(30));
    }

    public async Task<ProviderStatus> StatusAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        var address = await hosts.FindAsync(instanceId, cancellationToken);
        if (address is null)
        {
            return new ProviderStatus(instanceId, ProviderPhase.Failed, InstanceState.Warm, time.GetUtcNow(), "no live GPU-host silo serves this instance");
        }

        return Map(instanceId, await hosts.GetAsync(address, cancellationToken));
    }

    /// <summary>A host's phase as a provider status.</summary>
    internal static ProviderStatus Map(string instanceId, HostStatus status) => status.Phase switch
    {
        "hot" => new(instanceId, ProviderPhase.Hot, InstanceState.Hot, status.Since),
        "resuming" => new(instanceId, ProviderPhase.Resuming, InstanceState.Warm, status.Since),
        "stopping" => new(instanceId, ProviderPhase.Stopping, InstanceState.Hot, status.Since),
        _ when status.LastError is { } error => new(instanceId, ProviderPhase.Failed, InstanceState.Warm, status.Since, error),
        _ => new(instanceId, ProviderPhase.Warm, InstanceState.Warm, status.Since),
    };

    private async Task<string> AddressAsync(string instanceId, CancellationToken cancellationToken) =>
        await hosts.FindAsync(instanceId, cancellationToken)
        ?? throw new ProviderException("failed", $"no live GPU-host silo serves instance '{instanceId}'");
}
