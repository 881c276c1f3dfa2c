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

    /// <summary>Null (the default): a batch waits for <see cref="MaxQueueDelay"/> or a full
    /// batch, as Triton's does. Set (on a GPU): while no batch of the model is running, a batch
    /// closes as soon as no new request has come for this long, and one that filled while
    /// another ran closes the moment that one ends, so the device never idles while requests
    /// wait (with few callers the max delay, sized for a CPU, was most of a GPU batch's time).</summary>
    public TimeSpan? IdleGap { get; init; }

    /// <summary>An int64 input whose second dimension may differ between merged requests (a
    /// sampling run's step schedule); null: every input's trailing shape must match.</summary>
    public RaggedInput? Ragged { get; init; }
}

/// <summary>Requests whose input <paramref name="Input"/> ([rows, width], int64) differ in width
/// merge when the widest is at most <paramref name="MaxWidthRatio"/> times the narrowest; the
/// narrower rows are padded at the end with <paramref name="Pad"/> (for a DDIM schedule, -1:
/// "no more steps", so a 20-step run rides along a 25-step batch and keeps its own answer).
/// The ratio bounds what a short request waits for a long one.</summary>
public sealed record RaggedInput(int Input, long Pad, double MaxWidthRatio);
