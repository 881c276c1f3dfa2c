using Actors.Fleet.Providers;
using Actors.Fleet.Providers.Cloud;

namespace Actors.Silo.Fleet;

/// <summary>A rented machine's silo has joined: a live member of the cluster's membership serves
/// the instance and its control door says HOT (models loaded).</summary>
internal sealed class ClusterJoin(HostControlClient hosts) : IClusterJoin
{
    public async Task<bool> JoinedAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        try
        {
            return await hosts.FindAsync(instanceId, cancellationToken) is { Length: > 0 } url
                && (await hosts.GetAsync(url, cancellationToken)).Phase == "hot";
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or ProviderException)
        {
            return false;
        }
    }
}
