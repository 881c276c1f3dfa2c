namespace Actors.Runtime.Membership;

/// <summary>Silos heartbeat a row; one that misses its beats for longer than the timeout is
/// declared dead exactly once, so exactly one caller recovers what it held.</summary>
public interface IMembershipTable
{
    /// <summary>Registers or refreshes this silo. A silo declared dead stays dead: it must
    /// rejoin under a new id (its work has been handed to others).</summary>
    Task<bool> HeartbeatAsync(string siloId, string address, string roles, string? gpu, CancellationToken cancellationToken = default);

    /// <summary>Marks silos not seen for <paramref name="timeout"/> dead and returns them; a
    /// silo is returned by one call only, whichever silo makes it first.</summary>
    Task<IReadOnlyList<SiloInfo>> DeclareDeadAsync(TimeSpan timeout, CancellationToken cancellationToken = default);

    /// <summary>A clean shutdown: marked left, never reported dead.</summary>
    Task LeaveAsync(string siloId, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<SiloInfo>> ListAsync(CancellationToken cancellationToken = default);
}
