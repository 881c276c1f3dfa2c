using Actors.Grains;

namespace Actors.Runtime;

/// <summary>Base of grain implementations. A grain object lives for one turn: the runtime
/// creates it with its state, runs one method, commits, and drops it.</summary>
public abstract class Grain
{
    /// <summary>This grain's key.</summary>
    public string GrainKey { get; internal set; } = "";

    /// <summary>For calling other grains. Those calls are separate turns, outside this one's
    /// transaction; a call cycle back to this grain would wait for itself, so avoid them.</summary>
    public IGrainFactory GrainFactory { get; internal set; } = null!;
}
