namespace Actors.Inference.Batching;

/// <summary>Limits of one model's batcher (Triton: max_batch_size, max_queue_delay).</summary>
public sealed record BatcherOptions
{
    /// <summary>Most rows (items) merged into one forward.</summary>
    public int MaxBatchSize { get; init; } = 8;

    /// <summary>Longest the first item of a batch waits for company.</summary>
    public TimeSpan MaxQueueDelay { get; init; } = TimeSpan.FromMilliseconds(5);

    /// <summary>Batches in flight at once (Triton's instance count). On a GPU, 2 lets the next
    /// batch be assembled while one runs; on a CPU, 1 (libtorch already uses every core).</summary>
    public int MaxConcurrentBatches { get; init; } = 1;

    /// <summary>Requests waiting before new ones are refused (<see cref="Errors.BatchQueueFullException"/>).</summary>
    public int MaxQueued { get; init; } = 1024;
}
