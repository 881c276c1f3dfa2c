namespace Actors.Grains.Tenants;

/// <summary>A new API key: <see cref="Key"/> is shown once and stored only as a hash.</summary>
[GenerateSerializer(GenerateFieldIds = GenerateFieldIds.PublicProperties), Immutable]
public sealed record IssuedApiKey([Id(3836375521U)] string KeyId, [Id(489095534U)] string Key);
