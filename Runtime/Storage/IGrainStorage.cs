namespace Actors.Runtime.Storage;

/// <summary>Where grain state lives. A turn holds its grain exclusively, across every silo on
/// the same store, from <see cref="BeginTurnAsync"/> until the turn is disposed.</summary>
public interface IGrainStorage : IAsyncDisposable
{
    /// <summary>Applies the versioned schema migrations not yet applied (safe to call from
    /// several silos at once).</summary>
    Task MigrateAsync(CancellationToken cancellationToken = default);

    Task<IGrainTurn> BeginTurnAsync(GrainId id, CancellationToken cancellationToken = default);

    /// <summary>The last committed state, without taking the grain (for [ReadOnly] calls).</summary>
    Task<StoredState?> ReadAsync(GrainId id, CancellationToken cancellationToken = default);
}
