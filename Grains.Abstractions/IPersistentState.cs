namespace Actors.Grains;

/// <summary>A grain's durable state, as Orleans' IPersistentState. <see cref="WriteStateAsync"/>
/// stages the write; the runtime commits it when the turn ends, and a turn that throws writes
/// nothing.</summary>
public interface IPersistentState<TState>
    where TState : class
{
    TState State { get; set; }

    /// <summary>The stored version (etag); null before the first write.</summary>
    string? Etag { get; }

    bool RecordExists { get; }

    Task WriteStateAsync();
}
