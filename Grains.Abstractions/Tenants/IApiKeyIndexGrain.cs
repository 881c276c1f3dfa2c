using Orleans.Concurrency;
namespace Actors.Grains.Tenants;

/// <summary>Key id → tenant id (key: the key id). Holds no secret: a key is valid only if its
/// tenant also holds its hash, so an index entry left behind by a failed turn opens nothing.</summary>
public interface IApiKeyIndexGrain : IGrainWithStringKey
{
    Task SetTenantAsync(string tenantId);

    [ReadOnly]
    Task<string?> GetTenantAsync();
}
