using Actors.Runtime;

namespace Actors.Grains.Tenants;

public sealed class TenantGrain(IPersistentState<TenantRecord> state) : Grain, ITenantGrain
{
    public async Task<TenantSnapshot> CreateAsync(string name, Tier tier)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (state.State.Created)
        {
            if (state.State.Name == name && state.State.Tier == tier)
            {
                return Snapshot(); // a retried create
            }

            throw new InvalidOperationException($"tenant {GrainKey} already exists");
        }

        state.State = state.State with
        {
            Name = name,
            Tier = tier,
            Created = true,
            WebhookSecret = "whsec_" + Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24)),
        };
        await state.WriteStateAsync();
        return Snapshot();
    }

    public async Task<TenantSnapshot> SetTierAsync(Tier tier)
    {
        RequireCreated();
        if (!Enum.IsDefined(tier))
        {
            throw new ArgumentOutOfRangeException(nameof(tier), tier, "unknown tier");
        }

        state.State = state.State with { Tier = tier };
        await state.WriteStateAsync();
        return Snapshot();
    }

    public async Task<IssuedApiKey> IssueApiKeyAsync()
    {
        RequireCreated();
        var issued = ApiKeyFormat.NewKey();
        // The index first (a separate turn): if this turn then fails, the index entry points
        // at a tenant that holds no hash for it, and the key opens nothing.
        await GrainFactory.GetGrain<IApiKeyIndexGrain>(issued.KeyId).SetTenantAsync(GrainKey);
        state.State = state.State with
        {
            KeyHashes = new Dictionary<string, string>(state.State.KeyHashes) { [issued.KeyId] = ApiKeyFormat.Hash(issued.Key) },
        };
        await state.WriteStateAsync();
        return issued;
    }

    public async Task<bool> RevokeApiKeyAsync(string keyId)
    {
        if (!state.State.KeyHashes.ContainsKey(keyId))
        {
            return false;
        }

        var keys = new Dictionary<string, string>(state.State.KeyHashes);
        keys.Remove(keyId);
        state.State = state.State with { KeyHashes = keys };
        await state.WriteStateAsync();
        return true;
    }

    public Task<bool> AuthenticateAsync(string key) =>
        Task.FromResult(ApiKeyFormat.KeyIdOf(key) is { } id && state.State.KeyHashes.TryGetValue(id, out var hash) && ApiKeyFormat.Matches(key, hash));

    public Task<TenantSnapshot> GetAsync() => Task.FromResult(Snapshot());

    public Task<string?> GetWebhookSecretAsync() => Task.FromResult(state.State.WebhookSecret);

    private TenantSnapshot Snapshot() =>
        new(GrainKey, state.State.Name, state.State.Tier, state.State.Created, state.State.KeyHashes.Keys.Order(StringComparer.Ordinal).ToList());

    private void RequireCreated()
    {
        if (!state.State.Created)
        {
            throw new InvalidOperationException($"tenant {GrainKey} does not exist");
        }
    }
}
