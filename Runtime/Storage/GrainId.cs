namespace Actors.Runtime.Storage;

/// <summary>A grain's identity: its interface's name and its key.</summary>
public readonly record struct GrainId(string Type, string Key)
{
    public override string ToString() => $"{Type}/{Key}";
}
