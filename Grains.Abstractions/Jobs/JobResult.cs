namespace Actors.Grains.Jobs;

/// <summary>What a job produced: its JSON answer and, for models that draw one, an image
/// (both blobs, by SHA-256); whether it came from the result cache, i.e. from another job's run
/// (a job re-run after a crash that finds its own earlier result is not a cache hit: it is charged
/// in full); which job ran the model for it.</summary>
[GenerateSerializer(GenerateFieldIds = GenerateFieldIds.PublicProperties), Immutable]
public sealed record JobResult(string OutputRef, string? ImageRef, bool CacheHit, double RunMs = 0, string? ProducedBy = null)
{
    /// <summary>A cached result as job <paramref name="jobId"/>'s answer: a cache hit unless the
    /// job produced it itself (entries from before producers were recorded count as hits).</summary>
    public JobResult ServedTo(string jobId) => this with { CacheHit = ProducedBy != jobId };
}
