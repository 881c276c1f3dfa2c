namespace Actors.Grains.Instances;

/// <summary>An instance as seen now: state, since when, and cost accrued up to now.</summary>
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
}
