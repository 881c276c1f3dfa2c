namespace Actors.Runtime.Queue;

/// <summary>A job to queue: its id, model, tier (0 = Free … 3 = Enterprise) and retry budget.</summary>
public sealed record QueuedJob(string JobId, string Model, int Tier, int MaxAttempts = 3);
