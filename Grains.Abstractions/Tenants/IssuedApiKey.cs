namespace Actors.Grains.Tenants;

/// <summary>A new API key: <see cref="Key"/> is shown once and stored only as a hash.</summary>
public sealed record IssuedApiKey(string KeyId, string Key);
