using Actors.Storage.Tests.Storage;
using Microsoft.Extensions.Hosting;
using Orleans;
using Orleans.Runtime;

namespace Actors.Storage.Tests.OrleansProviders;

/// <summary>Two silos in one cluster that meet through a real Redis (started by scripts/test,
/// ACTORS_TEST_REDIS), grain state in PostgreSQL.</summary>
public sealed class RedisClusterTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>
{
    private static string Redis => Environment.GetEnvironmentVariable("ACTORS_TEST_REDIS") is { Length: > 0 } r
        ? r
        : throw new InvalidOperationException("ACTORS_TEST_REDIS is not set: run the tests through scripts/test, which starts Redis on a loopback port");

    [Fact]
    public async Task TwoThousandConcurrentIncrementsFromTwoSilosCountExactlyTwoThousand()
    {
        var service = "r" + Guid.NewGuid().ToString("N")[..10];
        var postgres = await MigratedStores.PostgresAsync(database.ConnectionString);
        var a = await TestSilo.StartAsync(service, postgres: postgres, redis: Redis);
        IHost? b = null;
        try
        {
            b = await TestSilo.StartAsync(service, postgres: postgres, redis: Redis);
            await WaitForBothAsync(a, b);

            var calls = Enumerable.Range(0, 2000).Select(i => (i % 2 == 0 ? a : b).Grains().GetGrain<ITallyGrain>("shared").IncrementAsync());
            var results = await Task.WhenAll(calls);
            Assert.Equal(Enumerable.Range(1, 2000), results.Order());
            Assert.Equal(2000, await b.Grains().GetGrain<ITallyGrain>("shared").GetAsync());

            // The cluster is one: both silos reach the grain's single activation, wherever it lives.
            Assert.Equal(await a.Grains().GetGrain<ITallyGrain>("shared").SiloAsync(), await b.Grains().GetGrain<ITallyGrain>("shared").SiloAsync());
            Assert.Equal(2, (await a.Grains().GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true)).Count);
        }
        finally
        {
            if (b is not null)
            {
                await b.StopQuietlyAsync();
            }

            await a.StopQuietlyAsync();
        }

        // What the grain acknowledged is what storage holds.
        var again = await TestSilo.StartAsync(service, postgres: postgres, redis: Redis);
        try
        {
            Assert.Equal(2000, await again.Grains().GetGrain<ITallyGrain>("shared").GetAsync());
        }
        finally
        {
            await again.StopQuietlyAsync();
        }
    }

    private static async Task WaitForBothAsync(IHost a, IHost b)
    {
        var management = a.Grains().GetGrain<IManagementGrain>(0);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((await management.GetHosts(onlyActive: true)).Count < 2)
        {
            Assert.True(DateTime.UtcNow < deadline, "the second silo did not join within 60 s");
            await Task.Delay(200);
        }

        _ = b;
    }
}
