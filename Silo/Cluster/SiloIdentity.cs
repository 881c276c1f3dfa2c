using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace Actors.Silo.Cluster;

/// <summary>This process in the cluster: its id (new each start), roles and the instance it serves.</summary>
public sealed class SiloIdentity(IOptions<ClusterOptions> options)
{
    public string SiloId { get; } = options.Value.SiloId is { Length: > 0 } id
        ? id
        : $"silo-{Environment.MachineName.ToLowerInvariant()}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3))}";

    public string InstanceId { get; } = options.Value.InstanceId is { Length: > 0 } instance
        ? instance
        : $"local-{Environment.MachineName.ToLowerInvariant()}";

    public string Roles { get; } = string.Join(',', options.Value.RoleSet.Order(StringComparer.Ordinal));

    /// <summary>The address other silos and operators see (set once the server listens).</summary>
    public string Address { get; set; } = "";

    /// <summary>A 127.0.0.1 port nothing listens on right now.</summary>
    public static int FreePort()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }

    /// <summary>A listening address as a client on this machine reaches it (a wildcard host → 127.0.0.1).</summary>
    public static string Loopback(string address) =>
        address.Replace("://0.0.0.0", "://127.0.0.1", StringComparison.Ordinal).Replace("://[::]", "://127.0.0.1", StringComparison.Ordinal)
            .Replace("://+", "://127.0.0.1", StringComparison.Ordinal).Replace("://*", "://127.0.0.1", StringComparison.Ordinal);
}
