namespace Actors.Grains.Instances;

/// <summary>An instance as seen now: state, since when, and cost accrued up to now.</summary>
[GenerateSerializer(GenerateFieldIds = GenerateFieldIds.PublicProperties), Immutable]
public sealed record InstanceSnapshot(
    string InstanceId,
    string GpuType,
    InstanceState State,
    DateTimeOffset Since,
    HourlyRates Rates,
    decimal AccruedUsd,
    IReadOnlyDictionary<InstanceState, TimeSpan> TimeInState)
{
    public string? HostSiloId { get; init; }

    public IReadOnlyList<string> Models { get; init; } = [];

    public InstanceHealth Health { get; init; } = InstanceHealth.Ok;

    public string? HealthReason { get; init; }

    /// <summary>The provider that rents and runs it ("local", "simulated", …); null for a GPU host
    /// started by hand, which can only be stopped and resumed.</summary>
    public string? Provider { get; init; }

    public PendingOperation? Pending { get; init; }

    /// <summary>The last provider error (failed, refused or timed-out operation).</summary>
    public string? LastError { get; init; }

    /// <summary>Measured seconds each operation last took, by operation ("rent", "resume", …).</summary>
    public IReadOnlyDictionary<string, double> MeasuredSeconds { get; init; } = new Dictionary<string, double>();
}
