namespace Actors.Silo.Fleet;

/// <summary>The settings a GPU-host silo this silo starts (a local process, or a rented machine)
/// needs to join the same cluster: this silo's Cluster, Blobs, Inference, Api, Billing and Logging
/// sections, as environment variables (<c>Section__Key</c>), without what is the host's own (its
/// roles, instance id, silo id, ports, GPU type, whether it starts WARM).</summary>
internal static class GpuHostSettings
{
    private static readonly string[] Forwarded = ["Cluster", "Blobs", "Inference", "Api", "Billing", "Logging"];

    private static readonly HashSet<string> Own = new(StringComparer.OrdinalIgnoreCase)
    {
        "Cluster:Roles", "Cluster:InstanceId", "Cluster:SiloId", "Cluster:StartWarm", "Cluster:GpuType", "Cluster:CreateDemoTenant",
        "Cluster:SiloPort", "Cluster:GatewayPort", "Cluster:DataPath",
    };

    public static Dictionary<string, string> From(IConfiguration configuration)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var section in Forwarded)
        {
            foreach (var (key, value) in configuration.GetSection(section).AsEnumerable())
            {
                if (value is not null && !Own.Contains(key))
                {
                    environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
                }
            }
        }

        return environment;
    }
}
