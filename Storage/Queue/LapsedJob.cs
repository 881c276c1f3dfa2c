namespace Actors.Storage.Queue;

/// <summary>A job whose lease lapsed: put back (<see cref="Requeued"/>) or failed for good.</summary>
public sealed record LapsedJob(string JobId, int Attempts, bool Requeued, string? Failure);
