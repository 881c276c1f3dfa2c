namespace Actors.Grains.Instances;

/// <summary>An instance as seen now: state, since when, and cost accrued up to now.</summary>
public sealed record InstanceSnapshot(
    string InstanceId,
    string GpuType,
    InstanceState State,
    DateTimeOffset Since,
    HourlyRates Rates,
    decimal AccruedUsd,
    IReadOnlyDictionary<InstanceState, TimeSpan> TimeInState);
