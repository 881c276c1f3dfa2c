namespace Actors.Silo.Tests;

/// <summary>A clock that starts at a set moment and runs at the real pace (timestamps and timers
/// stay the system's). What depends on the date, such as a UTC day's quota, is then the same on
/// every run, and nothing waits on a clock that does not move.</summary>
public sealed class RunningClock(DateTimeOffset start) : TimeProvider
{
    private readonly long _origin = TimeProvider.System.GetTimestamp();

    public override DateTimeOffset GetUtcNow() => start + TimeProvider.System.GetElapsedTime(_origin);
}
