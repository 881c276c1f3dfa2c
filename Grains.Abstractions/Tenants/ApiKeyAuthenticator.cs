namespace Actors.Grains.Tenants;

/// <summary>API key → tenant id, or null: the index finds the tenant, the tenant checks the hash.</summary>
public static class ApiKeyAuthenticator
{
    public static async Task<string?> AuthenticateAsync(IGrainFactory grains, string? key)
    {
        if (ApiKeyFormat.KeyIdOf(key) is not { } keyId)
        {
            return null;
        }

        var tenantId = await grains.GetGrain<IApiKeyIndexGrain>(keyId).GetTenantAsync();
        return tenantId is not null && await grains.GetGrain<ITenantGrain>(tenantId).AuthenticateAsync(key!) ? tenantId : null;
    }
}
