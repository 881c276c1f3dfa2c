namespace Actors.Grains.Instances;

/// <summary>InstanceGrain's stored state. Cost and time of closed periods are summed here; the
/// open period (since <see cref="Since"/>) is added when a snapshot is taken.</summary>
[GenerateSerializer(GenerateFieldIds = GenerateFieldIds.PublicProperties)]
public sealed record InstanceRecord
{
    public string GpuType { get; init; } = "unknown";

    public InstanceState State { get; init; } = InstanceState.Cold;

    /// <summary>When the current state began; default until the grain is first written.</summary>
    public DateTimeOffset Since { get; init; }

    public HourlyRates Rates { get; init; } = new(0, 0, 0, 0);

    public decimal ClosedCostUsd { get; init; }

    public Dictionary<InstanceState, double> ClosedSeconds { get; init; } = [];

    /// <summary>The silo running this instance's GPU host; null when none does.</summary>
    public string? HostSiloId { get; init; }

    public string[] Models { get; init; } = [];

    public InstanceHealth Health { get; init; } = InstanceHealth.Ok;

    public string? HealthReason { get; init; }

    /// <summary>The provider that rented it; null for a host started by hand.</summary>
    public string? Provider { get; init; }

    public PendingOperation? Pending { get; init; }

    /// <summary>Go on to HOT once the rent is done (an overflow or min-HOT rent).</summary>
    public bool ResumeWhenWarm { get; init; }

    public string? LastError { get; init; }

    public Dictionary<string, double> MeasuredSeconds { get; init; } = [];

    /// <summary>Its provider cannot stop a machine (Lambda): it is launched straight to HOT and
    /// released from there — never WARM.</summary>
    public bool CannotStop { get; init; }

    /// <summary>Its provider rents a running machine (a cloud): rented COLD → HOT once its silo has
    /// joined; it is WARM only after a stop.</summary>
    public bool RentsRunning { get; init; }
}
