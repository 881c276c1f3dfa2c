namespace Actors.Grains.Stores;

/// <summary>One tier's waiting jobs and when the oldest of them was enqueued.</summary>
public sealed record TierDepth(int Tier, int Depth, DateTimeOffset OldestEnqueuedAt);
