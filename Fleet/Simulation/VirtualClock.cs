namespace Actors.Fleet.Simulation;

/// <summary>A <see cref="TimeProvider"/> whose clock only moves when told to (the simulator's
/// virtual time).</summary>
public sealed class VirtualClock(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() => _now;

    public void MoveTo(DateTimeOffset to)
    {
        if (to < _now)
        {
            throw new InvalidOperationException($"virtual time cannot go back ({to:O} < {_now:O})");
        }

        _now = to;
    }
}
