namespace Actors.Inference.Batching;

/// <summary>Limits of one model's batcher (Triton: max_batch_size, max_queue_delay).</summary>
public sealed record BatcherOptions
{
    /// <summary>Most rows (items) merged into one forward.</summary>
    public int MaxBatchSize { get; init; } = 8;

    /// <summary>Longest the first item of a batch waits for company.</summary>
    public TimeSpan MaxQueueDelay { get; init; } = TimeSpan.FromMilliseconds(5);

    /// <summary>Requests waiting before new ones are refused (<see cref="Errors.BatchQueueFullException"/>).</summary>
    public int MaxQueued { get; init; } = 1024;
}
