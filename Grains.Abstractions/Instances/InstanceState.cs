namespace Actors.Grains.Instances;

/// <summary>Seed 003's lifecycle: COLD (not rented) → WARM (rented, stopped) → HOT (running,
/// model loaded) → SERVING (running jobs), and back.</summary>
public enum InstanceState
{
    Cold,
    Warm,
    Hot,
    Serving,
}
