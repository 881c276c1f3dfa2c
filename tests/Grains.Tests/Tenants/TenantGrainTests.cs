using Actors.Grains.Tenants;
using Actors.Runtime;
using Actors.Runtime.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Actors.Grains.Tests.Tenants;

public sealed class TenantGrainTests : IDisposable
{
    private readonly string _db = Path.Combine(Directory.CreateTempSubdirectory("actors-tenants-").FullName, "grains.db");

    private async Task<GrainRuntime> SiloAsync()
    {
        var store = ClusterStore.Sqlite(_db, TimeProvider.System);
        await store.MigrateAsync();
        var registry = new GrainTypeRegistry().Add<ITenantGrain, TenantGrain>().Add<IApiKeyIndexGrain, ApiKeyIndexGrain>();
        var services = new ServiceCollection().AddSingleton(TimeProvider.System).AddSingleton(new Actors.Grains.Billing.BillingOptions())
            .AddSingleton(new Actors.Grains.Billing.CreditLedger(store.Sql)).BuildServiceProvider();
        return new GrainRuntime(store.Grains, registry, services);
    }

    [Fact]
    public async Task AnIssuedKeyAuthenticatesItsTenantUntilRevoked()
    {
        var silo = await SiloAsync();
        var tenant = silo.GetGrain<ITenantGrain>("acme");
        await tenant.CreateAsync("Acme Clinic", Tier.Pro);
        var key = await tenant.IssueApiKeyAsync();

        Assert.Equal("acme", await ApiKeyAuthenticator.AuthenticateAsync(silo, key.Key));
        Assert.Equal([key.KeyId], (await tenant.GetAsync()).ApiKeyIds);

        Assert.True(await tenant.RevokeApiKeyAsync(key.KeyId));
        Assert.Null(await ApiKeyAuthenticator.AuthenticateAsync(silo, key.Key));
        Assert.False(await tenant.RevokeApiKeyAsync(key.KeyId));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("Bearer nonsense")]
    [InlineData("ak_short_x")]
    [InlineData("ak_0123456789abcdef_")]
    public async Task MalformedKeysAuthenticateNobody(string? key)
    {
        var silo = await SiloAsync();
        Assert.Null(await ApiKeyAuthenticator.AuthenticateAsync(silo, key));
    }

    [Fact]
    public async Task AWrongSecretOrAnotherTenantsKeyIdIsRefused()
    {
        var silo = await SiloAsync();
        var a = silo.GetGrain<ITenantGrain>("a");
        var b = silo.GetGrain<ITenantGrain>("b");
        await a.CreateAsync("A", Tier.Free);
        await b.CreateAsync("B", Tier.Enterprise);
        var keyA = await a.IssueApiKeyAsync();

        var tampered = keyA.Key[..^1] + (keyA.Key[^1] == 'x' ? 'y' : 'x');
        Assert.Null(await ApiKeyAuthenticator.AuthenticateAsync(silo, tampered));
        Assert.False(await b.AuthenticateAsync(keyA.Key), "tenant B must not accept tenant A's key");
    }

    [Fact]
    public async Task OnlyTheHashIsStored()
    {
        var silo = await SiloAsync();
        var tenant = silo.GetGrain<ITenantGrain>("acme");
        await tenant.CreateAsync("Acme", Tier.Premium);
        var key = await tenant.IssueApiKeyAsync();

        await using var connection = new SqliteConnection($"Data Source={_db}");
        await connection.OpenAsync();
        await using var cmd = new SqliteCommand("SELECT group_concat(state, ' ') FROM grain_state", connection);
        var everything = (string)(await cmd.ExecuteScalarAsync())!;

        Assert.DoesNotContain(key.Key["ak_0123456789abcdef_".Length..], everything, StringComparison.Ordinal);
        Assert.Contains(ApiKeyFormat.Hash(key.Key), everything, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TiersChangeAndMissingTenantsAreErrors()
    {
        var silo = await SiloAsync();
        var tenant = silo.GetGrain<ITenantGrain>("t");
        await Assert.ThrowsAsync<InvalidOperationException>(tenant.IssueApiKeyAsync);
        await tenant.CreateAsync("T", Tier.Free);
        Assert.Equal(Tier.Enterprise, (await tenant.SetTierAsync(Tier.Enterprise)).Tier);
        Assert.Equal(Tier.Enterprise, (await tenant.CreateAsync("T", Tier.Enterprise)).Tier); // a retried create
        await Assert.ThrowsAsync<InvalidOperationException>(() => tenant.CreateAsync("Other", Tier.Free));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => tenant.SetTierAsync((Tier)9));
        Assert.True(Tier.Enterprise > Tier.Pro && Tier.Pro > Tier.Premium && Tier.Premium > Tier.Free);
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(Path.GetDirectoryName(_db)!, recursive: true);
    }
}
