using Actors.Grains.Hosting;
using Microsoft.Extensions.Options;

namespace Actors.Silo.Cluster;

/// <summary>This process in the cluster: its id (Orleans' silo address, new each start, so a dead
/// silo comes back as another), roles, the instance it serves and its HTTP address.</summary>
public sealed class SiloIdentity(IOptions<ClusterOptions> options, IServiceProvider services)
{
    public const string RolesKey = SiloMetadataKeys.Roles;
    public const string InstanceKey = SiloMetadataKeys.Instance;
    public const string HttpKey = SiloMetadataKeys.Http;
    public const string ProcessKey = SiloMetadataKeys.Process;

    private string? _siloId;

    /// <summary>Orleans' address of this silo (host:port@generation); it keys job leases and an
    /// instance's host.</summary>
    public string SiloId => _siloId ??= services.GetRequiredService<ILocalSiloDetails>().SiloAddress.ToParsableString();

    public string InstanceId { get; } = InstanceOf(options.Value);

    public string Roles { get; } = string.Join(',', options.Value.RoleSet.Order(StringComparer.Ordinal));

    /// <summary>The address other silos and operators see (set once the server listens).</summary>
    public string Address { get; set; } = "";

    /// <summary>What this silo tells the cluster about itself: roles, the instance it serves (gpu),
    /// where its HTTP door is (<paramref name="http"/>, from its configured URLs) and its process.</summary>
    public static Dictionary<string, string> Metadata(ClusterOptions options, string? http)
    {
        var metadata = new Dictionary<string, string>
        {
            [RolesKey] = string.Join(',', options.RoleSet.Order(StringComparer.Ordinal)),
            [ProcessKey] = Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        if (options.Has("gpu"))
        {
            metadata[InstanceKey] = InstanceOf(options);
        }

        if (http is { Length: > 0 })
        {
            metadata[HttpKey] = Loopback(http.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[0]);
        }

        return metadata;
    }

    /// <summary>The instance a gpu silo serves: Cluster:InstanceId, or "local-{machine name}".</summary>
    public static string InstanceOf(ClusterOptions options) =>
        options.InstanceId is { Length: > 0 } instance ? instance : $"local-{Environment.MachineName.ToLowerInvariant()}";

    /// <summary>A 127.0.0.1 port nothing listens on right now.</summary>
    public static int FreePort() => Actors.Storage.LoopbackPorts.Free();

    /// <summary>A listening address as a client on this machine reaches it (a wildcard host → 127.0.0.1).</summary>
    public static string Loopback(string address) =>
        address.Replace("://0.0.0.0", "://127.0.0.1", StringComparison.Ordinal).Replace("://[::]", "://127.0.0.1", StringComparison.Ordinal)
            .Replace("://+", "://127.0.0.1", StringComparison.Ordinal).Replace("://*", "://127.0.0.1", StringComparison.Ordinal);
}
