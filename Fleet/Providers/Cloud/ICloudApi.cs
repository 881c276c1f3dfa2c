namespace Actors.Fleet.Providers.Cloud;

/// <summary>What <see cref="CloudProvider"/> needs from a GPU cloud's API — offers, launch, stop,
/// start, terminate, one machine, our machines — each cloud's adapter mapping its own wire format
/// onto it (RunPod, Vast.ai, Lambda: ../shared/PROVIDERS.md). Every machine it launches or lists
/// is named with <see cref="NamePrefix"/>; nothing without it is ever listed, stopped or
/// terminated. Errors are <see cref="ProviderException"/>s with our codes ("unavailable" for no
/// capacity, "unauthorized", "rate_limited", …), never carrying the key.</summary>
public interface ICloudApi
{
    /// <summary>"runpod", "vast" or "lambda".</summary>
    string Cloud { get; }

    string NamePrefix { get; }

    ProviderCapabilities Capabilities { get; }

    /// <summary>What can be rented now: GPU type, $/h, spot or on-demand, region, whether any is free.</summary>
    Task<IReadOnlyList<CloudOffer>> OffersAsync(CancellationToken cancellationToken = default);

    /// <summary>Rents a machine from <see cref="CloudLaunch.Offer"/> running the start-up; its id.
    /// Not idempotent at any cloud: an error without a definite answer is looked up by name by the
    /// caller before it tries again.</summary>
    Task<string> LaunchAsync(CloudLaunch launch, CancellationToken cancellationToken = default);

    /// <summary>Starts a stopped machine ("not_supported" where the cloud cannot stop).</summary>
    Task StartAsync(CloudMachine machine, CancellationToken cancellationToken = default);

    Task StopAsync(CloudMachine machine, CancellationToken cancellationToken = default);

    /// <summary>Ends a machine of ours (gone already is fine); "not_ours" for a name without the prefix.</summary>
    Task TerminateAsync(CloudMachine machine, CancellationToken cancellationToken = default);

    /// <summary>One machine, or null when the cloud does not know it.</summary>
    Task<CloudMachine?> GetAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Our machines (name with the prefix), in any state the cloud still lists.</summary>
    Task<IReadOnlyList<CloudMachine>> ListAsync(CancellationToken cancellationToken = default);
}

/// <summary>One rentable line: <paramref name="OfferId"/> is what a launch names (RunPod's GPU type
/// id, Vast's ask id, Lambda's instance type); <paramref name="StoppedPerHour"/> what a stopped
/// machine still bills (its disk), per the cloud's own prices.</summary>
public sealed record CloudOffer(string Cloud, string OfferId, string GpuType, int GpuCount, decimal PerHour, decimal StoppedPerHour, bool Spot, string Region, bool Available)
{
    /// <summary>The lowest bid a spot rent may offer (Vast's min_bid, RunPod's minimumBidPrice).</summary>
    public decimal? MinBid { get; init; }
}

/// <summary>A launch: the machine's name (our prefix + instance id), the offer, the bid for spot
/// (null: on demand), and what the machine runs.</summary>
public sealed record CloudLaunch(string Name, CloudOffer Offer, decimal? Bid, CloudStartup Startup);

/// <summary>Our GPU-host silo image and the environment it is started with (the cluster's
/// settings and the instance id). Each cloud passes it its own way: RunPod and Vast run the image
/// with the environment; Lambda, a VM, gets a cloud-init that runs it with docker.</summary>
public sealed record CloudStartup(string Image, IReadOnlyDictionary<string, string> Environment)
{
    /// <summary>A cloud-init that runs the image on a VM with the environment (Lambda): one
    /// <c>runcmd</c> entry as a list, so cloud-init runs docker directly (no shell to quote for);
    /// each item a YAML single-quoted scalar.</summary>
    public string CloudInit()
    {
        if (Environment.Any(kv => kv.Key.Contains('=', StringComparison.Ordinal) || (kv.Key + kv.Value).Any(char.IsControl)))
        {
            throw new ProviderException("invalid_request", "an environment variable for a machine has a name with '=' or a control character in its name or value");
        }

        string[] docker = ["docker", "run", "-d", "--restart", "unless-stopped", "--gpus", "all", "--network", "host"];
        var args = docker.Concat(Environment.OrderBy(kv => kv.Key, StringComparer.Ordinal).SelectMany(kv => new[] { "-e", $"{kv.Key}={kv.Value}" })).Append(Image);
        return $"#cloud-config\nruncmd:\n  - [ {string.Join(", ", args.Select(Yaml))} ]\n";
    }

    /// <summary>A YAML single-quoted scalar (a quote inside is doubled).</summary>
    public static string Yaml(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";
}

public enum CloudMachineState
{
    /// <summary>Created, pulling its image or booting.</summary>
    Starting,
    Running,
    Stopping,
    Stopped,
    Terminating,
    Gone,

    /// <summary>The cloud says it will not come up (Vast exited/offline, RunPod ERROR).</summary>
    Failed,
}

/// <summary>A machine as its cloud shows it: <paramref name="Detail"/> is the cloud's own status text.</summary>
public sealed record CloudMachine(string Id, string Name, CloudMachineState State, bool Spot, decimal PerHour, string Detail)
{
    public bool Gone => State is CloudMachineState.Gone or CloudMachineState.Terminating;
}
