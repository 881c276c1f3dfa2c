namespace Actors.Inference.Models;

/// <summary>Dynamic batching limits, like Triton's max_batch_size and max_queue_delay.</summary>
public sealed record BatchLimits
{
    public int MaxBatchSize { get; init; } = 8;

    public double MaxQueueDelayMs { get; init; } = 5;
}
