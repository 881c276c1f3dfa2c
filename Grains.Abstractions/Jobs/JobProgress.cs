namespace Actors.Grains.Jobs;

/// <summary>Progress of a running job: <see cref="Done"/> of <see cref="Total"/> <see cref="Unit"/> (e.g. slices).</summary>
[GenerateSerializer(GenerateFieldIds = GenerateFieldIds.PublicProperties), Immutable]
public sealed record JobProgress([Id(3168448793U)] int Done, [Id(735881393U)] int Total, [Id(528380656U)] string Unit);
