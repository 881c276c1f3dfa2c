namespace Actors.Inference.Models;

/// <summary>Dynamic batching limits, like Triton's max_batch_size and max_queue_delay.</summary>
public sealed record BatchLimits
{
    public int MaxBatchSize { get; init; } = 8;

    public double MaxQueueDelayMs { get; init; } = 5;

    /// <summary>For a ddim model: sampling requests of different step counts share a batch while
    /// the longest is at most this many times the shortest (the shorter ones ride along
    /// -1-padded); 1 merges only equal step counts. Default <see cref="DefaultMaxStepRatio"/>.</summary>
    public double? MaxStepRatio { get; init; }

    /// <summary>A 20-step request rides along a 25-step run; a 10-step one does not wait for a 50-step one.</summary>
    public const double DefaultMaxStepRatio = 2.0;
}
