namespace Actors.Grains.Instances;

/// <summary>An instance as seen now: state, since when, and cost accrued up to now.</summary>
[GenerateSerializer(GenerateFieldIds = GenerateFieldIds.PublicProperties), Immutable]
public sealed record InstanceSnapshot(
    [Id(614267389U)] string InstanceId,
    [Id(3999439496U)] string GpuType,
    [Id(2766817199U)] InstanceState State,
    [Id(3643867253U)] DateTimeOffset Since,
    [Id(1862152322U)] HourlyRates Rates,
    [Id(1472062983U)] decimal AccruedUsd,
    [Id(2286695942U)] IReadOnlyDictionary<InstanceState, TimeSpan> TimeInState)
{
    [Id(2510387608U)]
    public string? HostSiloId { get; init; }

    [Id(425204522U)]
    public IReadOnlyList<string> Models { get; init; } = [];

    [Id(586237503U)]
    public InstanceHealth Health { get; init; } = InstanceHealth.Ok;

    [Id(516283815U)]
    public string? HealthReason { get; init; }

    /// <summary>The provider that rents and runs it ("local", "simulated", …); null for a GPU host
    /// started by hand, which can only be stopped and resumed.</summary>
    [Id(1743478991U)]
    public string? Provider { get; init; }

    [Id(4107837302U)]
    public PendingOperation? Pending { get; init; }

    /// <summary>The last provider error (failed, refused or timed-out operation).</summary>
    [Id(212396952U)]
    public string? LastError { get; init; }

    /// <summary>Measured seconds each operation last took, by operation ("rent", "resume", …).</summary>
    [Id(3164498880U)]
    public IReadOnlyDictionary<string, double> MeasuredSeconds { get; init; } = new Dictionary<string, double>();
}
