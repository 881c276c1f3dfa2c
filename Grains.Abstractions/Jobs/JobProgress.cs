namespace Actors.Grains.Jobs;

/// <summary>Progress of a running job: <see cref="Done"/> of <see cref="Total"/> <see cref="Unit"/> (e.g. slices).</summary>
[GenerateSerializer(GenerateFieldIds = GenerateFieldIds.PublicProperties), Immutable]
public sealed record JobProgress(int Done, int Total, string Unit);
