using System.Net.Http.Json;
using System.Text.Json;

namespace Actors.Silo.Tests.Cluster;

/// <summary>A tenant's money after a crash, as the cluster tests check it.</summary>
internal static class TenantMoney
{
    /// <summary>Waits (up to a minute) until the tenant has no open reservation, then reads its
    /// ledger through <paramref name="silo"/>: asserts none is open and the ledger is consistent.</summary>
    public static async Task<(JsonElement Usage, JsonElement Ledger)> SettledAsync(ApiClient api, string key, SiloProcess silo, string tenant)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        JsonElement usage;
        do
        {
            usage = await (await api.GetAsync(key, "/v1/usage")).Content.ReadFromJsonAsync<JsonElement>();
            if (usage.GetProperty("reservations").GetInt32() == 0)
            {
                break;
            }

            await Task.Delay(250);
        }
        while (clock.Elapsed < TimeSpan.FromSeconds(60));

        using var ledgerRequest = SiloFactory.AdminRequest(HttpMethod.Get, $"/admin/tenants/{tenant}/ledger?limit=1000");
        var ledger = await (await silo.Http.SendAsync(ledgerRequest)).Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(usage.GetProperty("reservations").GetInt32() == 0, $"open reservations: {usage}\n{ledger}\n{silo.Output[^Math.Min(6000, silo.Output.Length)..]}");
        Assert.True(ledger.GetProperty("consistent").GetBoolean(), ledger.ToString());
        return (usage, ledger);
    }

    /// <summary>What the tenant's plan charges for one job of <paramref name="model"/>.</summary>
    public static async Task<long> PriceAsync(ApiClient api, string key, string model)
    {
        var plans = await (await api.GetAsync(key, "/v1/billing/plans")).Content.ReadFromJsonAsync<JsonElement>();
        return plans.GetProperty("modelPrices").TryGetProperty(model, out var p) ? p.GetInt64() : plans.GetProperty("defaultModelPrice").GetInt64();
    }
}
