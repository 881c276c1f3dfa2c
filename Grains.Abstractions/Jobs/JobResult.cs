namespace Actors.Grains.Jobs;

/// <summary>What a job produced: its JSON answer (a blob by SHA-256, or the JSON itself in
/// <see cref="OutputInline"/> when it is at most <see cref="JobRequest.InlineBytes"/> and no file
/// comes with it) and, for models that draw one, an image or a volume (a blob); whether it came from the result cache, i.e. from another job's run
/// (a job re-run after a crash that finds its own earlier result is not a cache hit: it is charged
/// in full); which job ran the model for it.</summary>
[GenerateSerializer(GenerateFieldIds = GenerateFieldIds.PublicProperties), Immutable]
public sealed record JobResult([Id(3817451370U)] string? OutputRef, [Id(1713090760U)] string? ImageRef, [Id(3690743463U)] bool CacheHit, [Id(2512509982U)] double RunMs = 0, [Id(2137509781U)] string? ProducedBy = null, [Id(1625880946U)] string? OutputInline = null)
{
    /// <summary>A cached result as job <paramref name="jobId"/>'s answer: a cache hit unless the
    /// job produced it itself (entries from before producers were recorded count as hits).</summary>
    public JobResult ServedTo(string jobId) => this with { CacheHit = ProducedBy != jobId };

    /// <summary>Whether any of it is a blob (an inline answer with no file has none).</summary>
    public bool HasBlobs => OutputRef is not null || ImageRef is not null;
}
