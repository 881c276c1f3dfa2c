namespace Actors.Grains.Instances;

/// <summary>The instance state machine and its cost integral, as pure functions.</summary>
public static class InstanceLifecycle
{
    private static readonly HashSet<(InstanceState, InstanceState)> Allowed =
    [
        (InstanceState.Cold, InstanceState.Warm),     // rent
        (InstanceState.Warm, InstanceState.Hot),      // resume, load models
        (InstanceState.Hot, InstanceState.Serving),   // jobs start
        (InstanceState.Serving, InstanceState.Hot),   // idle again
        (InstanceState.Hot, InstanceState.Warm),      // stop
        (InstanceState.Warm, InstanceState.Cold),     // release
    ];

    /// <summary>On a provider that cannot stop (<see cref="InstanceRecord.CannotStop"/>): no WARM.</summary>
    private static readonly HashSet<(InstanceState, InstanceState)> AllowedWithoutStop =
    [
        (InstanceState.Cold, InstanceState.Hot),      // launch: up and running when rented
        (InstanceState.Hot, InstanceState.Serving),
        (InstanceState.Serving, InstanceState.Hot),
        (InstanceState.Hot, InstanceState.Cold),      // release a running machine
        (InstanceState.Serving, InstanceState.Cold),  // the same while it served (its jobs go back to the queue)
    ];

    public static bool CanMove(InstanceState from, InstanceState to, bool cannotStop = false, bool rentsRunning = false) =>
        (cannotStop ? AllowedWithoutStop : Allowed).Contains((from, to)) || (rentsRunning && from == InstanceState.Cold && to == InstanceState.Hot);

    /// <summary>Closes the current period (its cost at the current rate) and opens the next.</summary>
    public static InstanceRecord Move(InstanceRecord record, InstanceState to, DateTimeOffset now)
    {
        if (!CanMove(record.State, to, record.CannotStop, record.RentsRunning))
        {
            throw new InvalidTransitionException("instance", record.State.ToString(), to.ToString());
        }

        return Close(record, now) with { State = to, Since = now };
    }

    /// <summary>The same record with the open period closed at <paramref name="now"/> (used
    /// before rates change, so each period is charged at the rate that applied).</summary>
    public static InstanceRecord Close(InstanceRecord record, DateTimeOffset now)
    {
        if (record.Since == default)
        {
            return record with { Since = now };
        }

        var seconds = Math.Max(0, (now - record.Since).TotalSeconds);
        var closed = new Dictionary<InstanceState, double>(record.ClosedSeconds);
        closed[record.State] = closed.GetValueOrDefault(record.State) + seconds;
        return record with
        {
            Since = now,
            ClosedCostUsd = record.ClosedCostUsd + Cost(record.Rates.For(record.State), seconds),
            ClosedSeconds = closed,
        };
    }

    /// <summary>Moves through the allowed states to <paramref name="to"/> (e.g. COLD → WARM → HOT
    /// when a host comes up), each step recorded; no move if already there.</summary>
    public static InstanceRecord MoveTo(InstanceRecord record, InstanceState to, DateTimeOffset now)
    {
        while (record.State != to)
        {
            var next = (record.State, to) switch
            {
                (InstanceState.Cold, _) when record.CannotStop => InstanceState.Hot,
                (InstanceState.Cold, InstanceState.Hot or InstanceState.Serving) when record.RentsRunning => InstanceState.Hot,
                (InstanceState.Hot or InstanceState.Serving, InstanceState.Cold) when record.CannotStop => InstanceState.Cold,
                (InstanceState.Cold, _) => InstanceState.Warm,
                (InstanceState.Warm, InstanceState.Cold) => InstanceState.Cold,
                (InstanceState.Warm, _) => InstanceState.Hot,
                (InstanceState.Hot, InstanceState.Serving) => InstanceState.Serving,
                (InstanceState.Hot, _) => InstanceState.Warm,
                (InstanceState.Serving, _) => InstanceState.Hot,
                _ => throw new InvalidTransitionException("instance", record.State.ToString(), to.ToString()),
            };
            record = Move(record, next, now);
        }

        return record;
    }

    public static InstanceSnapshot Snapshot(string instanceId, InstanceRecord record, DateTimeOffset now)
    {
        var open = Close(record, now);
        return new InstanceSnapshot(instanceId, record.GpuType, record.State, record.Since == default ? now : record.Since,
            record.Rates, Math.Round(open.ClosedCostUsd, 6),
            open.ClosedSeconds.ToDictionary(kv => kv.Key, kv => TimeSpan.FromSeconds(kv.Value)))
        {
            HostSiloId = record.HostSiloId,
            Models = record.Models,
            Health = record.Health,
            HealthReason = record.HealthReason,
            Provider = record.Provider,
            Pending = record.Pending,
            LastError = record.LastError,
            MeasuredSeconds = record.MeasuredSeconds,
        };
    }

    private static decimal Cost(decimal perHour, double seconds) => perHour * (decimal)seconds / 3600m;
}
