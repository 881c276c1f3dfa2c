namespace Actors.Grains.Instances;

/// <summary>How the instance's host last reported: ok, degraded (slow, errors) or down (its silo
/// stopped heartbeating).</summary>
public enum InstanceHealth
{
    Ok,
    Degraded,
    Down,
}
