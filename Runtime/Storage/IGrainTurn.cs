namespace Actors.Runtime.Storage;

/// <summary>One turn's hold on a grain. Disposing without <see cref="CommitAsync"/> discards
/// whatever was written.</summary>
public interface IGrainTurn : IAsyncDisposable
{
    /// <summary>The state at the start of the turn; null if never written.</summary>
    StoredState? Stored { get; }

    /// <summary>Stages the new state; it becomes visible at <see cref="CommitAsync"/>.</summary>
    void Write(string json);

    /// <summary>Adds a statement to run in the commit's transaction, before the state write.</summary>
    void Stage(StagedWrite write);

    Task CommitAsync(CancellationToken cancellationToken = default);
}
