using System.Collections.Concurrent;
using Actors.Grains.Instances;

namespace Actors.Fleet.Providers.Lambda;

/// <summary>Lambda Cloud behind the provider interface. Our instance <c>i</c> is the Lambda machine
/// named <c>{prefix}{i}</c> (found by that name after a restart or a failed launch, never by
/// guessing). A rent launches it (no WARM: <see cref="LambdaCloudClient.Capabilities"/>) with the
/// cloud-init that starts our GPU-host silo; it is HOT only when <paramref name="joined"/> says
/// that silo has joined the cluster with its models loaded — Lambda's "active" is not ready — so
/// a machine that never joins stays renting until the instance grain's time-out releases it
/// (terminated, a failed rent). Release terminates; stop and resume are not supported.</summary>
public sealed class LambdaProvider(LambdaCloudClient client, LambdaProviderOptions options, Func<string, bool> joined, TimeProvider time) : IInstanceProvider
{
    private readonly ConcurrentDictionary<string, string> _machineIds = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (ProviderPhase Phase, DateTimeOffset Since)> _seen = new(StringComparer.Ordinal);
    private IReadOnlyList<LambdaOffer> _offers = [];

    public string Name => "lambda";

    /// <summary>The instance types as of the last <see cref="RefreshOffersAsync"/>: running and
    /// "stopped" cost the same (there is no stopped), no spot.</summary>
    public IReadOnlyList<GpuOffer> PriceList =>
        [.. _offers.Select(o => new GpuOffer(o.InstanceType, o.PerHour, o.PerHour, Spot: false))];

    public ProviderCapabilities Capabilities => LambdaCloudClient.Capabilities;

    /// <summary>Reads the instance types and where they have capacity (rents use the last read).</summary>
    public async Task<IReadOnlyList<LambdaOffer>> RefreshOffersAsync(CancellationToken cancellationToken = default) =>
        _offers = await client.OffersAsync(cancellationToken);

    public async Task<ProviderTicket> RentAsync(string instanceId, string gpuType, CancellationToken cancellationToken = default)
    {
        var offer = _offers.FirstOrDefault(o => o.InstanceType == gpuType)
            ?? throw new ProviderException("unknown_gpu", $"Lambda has no instance type '{gpuType}' (read: {string.Join(", ", _offers.Select(o => o.InstanceType))})");
        var candidates = options.Regions.Count == 0 ? offer.RegionsWithCapacity : [.. options.Regions.Where(offer.RegionsWithCapacity.Contains)];
        var region = candidates.Count > 0 ? candidates[0]
            : throw new ProviderException("unavailable", $"no capacity for {gpuType} in {(options.Regions.Count == 0 ? "any region" : string.Join(", ", options.Regions))}");
        var name = options.NamePrefix + instanceId;
        if (await FindAsync(instanceId, cancellationToken) is { Gone: false } existing)
        {
            // Ours already (a retried rent, a restart): adopted, never launched twice.
            _machineIds[instanceId] = existing.Id;
        }
        else
        {
            _machineIds[instanceId] = await client.LaunchAsync(name, gpuType, region, options.UserData(instanceId), cancellationToken);
        }

        var now = time.GetUtcNow();
        _seen[instanceId] = (ProviderPhase.Renting, now);
        return new ProviderTicket(instanceId, ProviderOperation.Rent, now, Capabilities.TypicalTimeToReady);
    }

    public Task<ProviderTicket> ResumeAsync(string instanceId, CancellationToken cancellationToken = default) =>
        throw new ProviderException("not_supported", "Lambda machines cannot be stopped, so none is ever resumed");

    public Task<ProviderTicket> StopAsync(string instanceId, CancellationToken cancellationToken = default) =>
        throw new ProviderException("not_supported", "Lambda cannot stop a machine (it runs, billed, or is gone): release it");

    public async Task<ProviderTicket> ReleaseAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        if (await FindAsync(instanceId, cancellationToken) is { Gone: false } machine)
        {
            await client.TerminateAsync(machine.Id, cancellationToken);
        }

        var now = time.GetUtcNow();
        _seen[instanceId] = (ProviderPhase.Releasing, now);
        return new ProviderTicket(instanceId, ProviderOperation.Release, now, TimeSpan.FromMinutes(1));
    }

    public async Task<ProviderStatus> StatusAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        var machine = await FindAsync(instanceId, cancellationToken);
        var (phase, settled) = machine switch
        {
            null or { Status: "terminated" } => (ProviderPhase.Cold, InstanceState.Cold),
            { Status: "terminating" } => (ProviderPhase.Releasing, InstanceState.Hot),
            { Active: true } when joined(instanceId) => (ProviderPhase.Hot, InstanceState.Hot),
            _ => (ProviderPhase.Renting, InstanceState.Cold), // booting, unhealthy, or active but not joined yet
        };
        var now = time.GetUtcNow();
        var since = _seen.AddOrUpdate(instanceId, (phase, now), (_, seen) => seen.Phase == phase ? seen : (phase, now)).Since;
        return new ProviderStatus(instanceId, phase, settled, since);
    }

    /// <summary>Ours by the id we launched, or by name (a restart, a launch whose answer was lost).</summary>
    private async Task<LambdaMachine?> FindAsync(string instanceId, CancellationToken cancellationToken)
    {
        if (_machineIds.TryGetValue(instanceId, out var id) && await client.GetAsync(id, cancellationToken) is { } known)
        {
            return known;
        }

        var name = options.NamePrefix + instanceId;
        var found = (await client.ListOursAsync(cancellationToken)).Where(m => m.Name == name).OrderBy(m => m.Gone).FirstOrDefault();
        if (found is not null)
        {
            _machineIds[instanceId] = found.Id;
        }

        return found;
    }
}

/// <summary>How the Lambda provider rents: which regions (in order; none: any with capacity),
/// the machines' name prefix (the same as the client's), and the cloud-init that makes a machine
/// a GPU host of this cluster (<c>{instanceId}</c> is replaced; it passes the cluster's settings
/// to the GPU-host silo image — docs/fleet.md).</summary>
public sealed class LambdaProviderOptions
{
    public IReadOnlyList<string> Regions { get; init; } = [];

    public string NamePrefix { get; init; } = "actors-";

    public string? UserDataTemplate { get; init; }

    public string? UserData(string instanceId) => UserDataTemplate?.Replace("{instanceId}", instanceId, StringComparison.Ordinal);
}
