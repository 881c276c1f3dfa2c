using Actors.Grains.Instances;

namespace Actors.Fleet.Providers;

/// <summary>Where GPU instances come from: a cloud's API, processes on this machine, or a
/// simulation. Every call returns at once with an ETA; <see cref="StatusAsync"/> says when the
/// instance got there, or that it failed. Shaped after the cloud APIs (Vast.ai, RunPod, Lambda)
/// whose rent/start/stop/destroy calls are all asynchronous.</summary>
public interface IInstanceProvider
{
    string Name { get; }

    /// <summary>What can be rented and at what price.</summary>
    IReadOnlyList<GpuOffer> PriceList { get; }

    /// <summary>What its machines can do (stop and resume? spot?), for the instance grain, the
    /// pool policies and the simulator.</summary>
    ProviderCapabilities Capabilities { get; }

    /// <summary>COLD → WARM: rent an instance of <paramref name="gpuType"/> and set it up (no
    /// model loaded); on a provider that cannot stop, COLD → HOT (running, models loaded: such a
    /// machine is never WARM). Throws <see cref="ProviderException"/> ("unavailable") when none can be had.</summary>
    Task<ProviderTicket> RentAsync(string instanceId, string gpuType, CancellationToken cancellationToken = default);

    /// <summary>WARM → HOT: start it and load the models.</summary>
    Task<ProviderTicket> ResumeAsync(string instanceId, CancellationToken cancellationToken = default);

    /// <summary>HOT → WARM: stop it, keep the lease ("not_supported" where the provider cannot stop).</summary>
    Task<ProviderTicket> StopAsync(string instanceId, CancellationToken cancellationToken = default);

    /// <summary>WARM → COLD: give the lease back; on a provider that cannot stop, HOT → COLD.</summary>
    Task<ProviderTicket> ReleaseAsync(string instanceId, CancellationToken cancellationToken = default);

    /// <summary>Where the instance is now; <see cref="ProviderPhase.Cold"/> for an unknown id.</summary>
    Task<ProviderStatus> StatusAsync(string instanceId, CancellationToken cancellationToken = default);
}

/// <summary>One line of a provider's price list (seed 000 and 003: A4000 $0.22/h, RTX 4090
/// $0.40/h spot and $0.80/h on demand, …).</summary>
[GenerateSerializer(GenerateFieldIds = GenerateFieldIds.PublicProperties), Immutable]
public sealed record GpuOffer([Id(3999439496U)] string GpuType, [Id(1202160960U)] decimal HotPerHour, [Id(123832747U)] decimal WarmPerHour, [Id(2193813414U)] bool Spot, [Id(1148914942U)] int VramGb = 0);

public enum ProviderOperation
{
    Rent,
    Resume,
    Stop,
    Release,
}

/// <summary>An accepted operation: when it started and when the provider expects it done.</summary>
[GenerateSerializer(GenerateFieldIds = GenerateFieldIds.PublicProperties), Immutable]
public sealed record ProviderTicket([Id(614267389U)] string InstanceId, [Id(1616947716U)] ProviderOperation Operation, [Id(1962871053U)] DateTimeOffset StartedAt, [Id(4006868865U)] TimeSpan Eta)
{
    public DateTimeOffset ExpectedAt => StartedAt + Eta;
}

/// <summary>The provider's view of an instance. The transitional phases carry the operation in
/// flight; <see cref="ProviderPhase.Failed"/> and <see cref="ProviderPhase.Preempted"/> carry why.</summary>
public enum ProviderPhase
{
    Cold,
    Renting,
    Warm,
    Resuming,
    Hot,
    Stopping,
    Releasing,

    /// <summary>The last operation failed; the instance stays where it was before it (see
    /// <see cref="ProviderStatus.StableState"/>).</summary>
    Failed,

    /// <summary>A spot instance was taken back by the market: it is gone (COLD).</summary>
    Preempted,
}

/// <param name="Settled">The lifecycle state it is in, or was in before the operation in
/// flight or that failed (a failed resume leaves a WARM instance; a preempted one is COLD).</param>
[GenerateSerializer(GenerateFieldIds = GenerateFieldIds.PublicProperties), Immutable]
public sealed record ProviderStatus([Id(614267389U)] string InstanceId, [Id(1370324430U)] ProviderPhase Phase, [Id(788358277U)] InstanceState Settled, [Id(3643867253U)] DateTimeOffset Since, [Id(2200439881U)] string? Error = null)
{
    public bool InFlight => Phase is ProviderPhase.Renting or ProviderPhase.Resuming or ProviderPhase.Stopping or ProviderPhase.Releasing;

    /// <summary>Up with its models loaded, taking jobs (also after a failed stop: still running).</summary>
    public bool Running => Settled == InstanceState.Hot && Phase is ProviderPhase.Hot or ProviderPhase.Failed;
}

/// <summary>A provider refused or failed an operation. Codes: "unavailable" (none to rent),
/// "invalid_state" (not from this state), "unknown_gpu", "failed", "timeout"; from a cloud's API
/// also "unauthorized", "forbidden", "quota", "rate_limited", "not_found", "invalid_request",
/// "not_ours" (a machine without the cluster's name prefix) and "not_supported".</summary>
[GenerateSerializer]
public sealed class ProviderException : Exception
{
    public ProviderException(string code, string message)
        : base(message) => Code = code;

    public ProviderException()
        : this("failed", "provider error")
    {
    }

    public ProviderException(string message)
        : this("failed", message)
    {
    }

    public ProviderException(string message, Exception innerException)
        : base(message, innerException) => Code = "failed";

    public ProviderException(string code, string message, Exception innerException)
        : base(message, innerException) => Code = code;

    [Id(0)]
    public string Code { get; private set; } = "failed";
}
