namespace Actors.Grains.Jobs;

/// <summary>What a job produced: its JSON answer and, for models that draw one, an image
/// (both blobs, by SHA-256); whether it came from the result cache.</summary>
[GenerateSerializer(GenerateFieldIds = GenerateFieldIds.PublicProperties), Immutable]
public sealed record JobResult(string OutputRef, string? ImageRef, bool CacheHit, double RunMs = 0);
