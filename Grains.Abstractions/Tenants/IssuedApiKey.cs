namespace Actors.Grains.Tenants;

/// <summary>A new API key: <see cref="Key"/> is shown once and stored only as a hash.</summary>
[GenerateSerializer(GenerateFieldIds = GenerateFieldIds.PublicProperties), Immutable]
public sealed record IssuedApiKey(string KeyId, string Key);
