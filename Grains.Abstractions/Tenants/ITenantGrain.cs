namespace Actors.Grains.Tenants;

/// <summary>A tenant (key: tenant id): tier and API keys (hashed).</summary>
public interface ITenantGrain : IGrainWithStringKey
{
    Task<TenantSnapshot> CreateAsync(string name, Tier tier);

    Task<TenantSnapshot> SetTierAsync(Tier tier);

    Task<IssuedApiKey> IssueApiKeyAsync();

    /// <summary>True if the key existed and is now revoked.</summary>
    Task<bool> RevokeApiKeyAsync(string keyId);

    /// <summary>True if <paramref name="key"/> is one of this tenant's live keys.</summary>
    [ReadOnly]
    Task<bool> AuthenticateAsync(string key);

    [ReadOnly]
    Task<TenantSnapshot> GetAsync();

    /// <summary>The secret that signs this tenant's webhooks; null before the tenant exists.</summary>
    [ReadOnly]
    Task<string?> GetWebhookSecretAsync();
}
