namespace Actors.Grains.Tenants;

public sealed class ApiKeyIndexGrain([PersistentState("keyindex")] IPersistentState<ApiKeyIndexGrain.State> state) : Grain, IApiKeyIndexGrain
{
    private string GrainKey => this.GetPrimaryKeyString();

    public async Task SetTenantAsync(string tenantId)
    {
        if (state.State.TenantId is { } existing && existing != tenantId)
        {
            throw new InvalidOperationException($"key id {GrainKey} already belongs to another tenant");
        }

        state.State = new State { TenantId = tenantId };
        await state.WriteStateAsync();
    }

    public Task<string?> GetTenantAsync() => Task.FromResult(state.State.TenantId);

    public sealed record State
    {
        public string? TenantId { get; init; }
    }
}
