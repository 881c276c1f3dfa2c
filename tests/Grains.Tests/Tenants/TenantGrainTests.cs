using Actors.Grains.Tenants;
using Actors.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Actors.Grains.Tests.Tenants;

public sealed class TenantGrainTests : IAsyncDisposable
{
    private readonly string _db = Path.Combine(Directory.CreateTempSubdirectory("actors-tenants-").FullName, "grains.db");
    private IHost? _silo;

    private async Task<IGrainFactory> SiloAsync()
    {
        var store = ClusterStore.Sqlite(_db, TimeProvider.System);
        _silo ??= await GrainsSilo.StartAsync(_db, services => services.AddSingleton(TimeProvider.System)
            .AddSingleton(new Actors.Grains.Billing.BillingOptions()).AddSingleton(new Actors.Storage.Billing.CreditLedger(store.Sql)));
        return _silo.Services.GetRequiredService<IGrainFactory>();
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
        await using var cmd = new SqliteCommand("SELECT group_concat(CAST(PayloadBinary AS TEXT), ' ') FROM OrleansStorage", connection);
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

    public async ValueTask DisposeAsync()
    {
        if (_silo is not null)
        {
            await _silo.StopAsync();
            _silo.Dispose();
        }

        SqliteConnection.ClearAllPools();
        Directory.Delete(Path.GetDirectoryName(_db)!, recursive: true);
    }
}
