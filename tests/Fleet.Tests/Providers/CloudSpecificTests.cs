using System.Collections.Concurrent;
using Actors.Fleet.Providers;
using Actors.Fleet.Providers.Cloud;

namespace Actors.Fleet.Tests.Providers;

/// <summary>What one cloud does its own way, against its fake: RunPod's spot is GraphQL-only (rented
/// with a bid per GPU, resumed with podBidResume), its reads REST v2; Vast's bid too low still
/// creates a stopped instance (destroyed, never left billing), its list pages 25 at a time.</summary>
public sealed class CloudSpecificTests
{
    private static CloudProvider Provider(CloudUnderTest cloud, bool spot, decimal bidMargin = 0.1m, Func<string, bool>? joined = null) =>
        new(cloud.Api, new CloudProviderOptions { Spot = spot, BidMargin = bidMargin, Image = "ghcr.io/example/actors-gpu-silo:1" },
            new Join(joined ?? (_ => true)), TimeProvider.System);

    [Fact]
    public async Task RunPodSpotIsRentedWithABidPerGpuThroughGraphQlAndResumedWithPodBidResume()
    {
        using var cloud = CloudUnderTest.Create("runpod");
        var provider = Provider(cloud, spot: true);
        await provider.RefreshOffersAsync();
        Assert.Equal(0.34m, provider.PriceList.Single(o => o.GpuType == cloud.GpuType).HotPerHour); // the minimum bid

        await provider.RentAsync("i-030", cloud.GpuType);
        var fake = (FakeRunPod)cloud.Fake;
        Assert.Contains(fake.Requests, r => r.Contains("podRentInterruptable", StringComparison.Ordinal) && r.Contains("\"bidPerGpu\":0.374", StringComparison.Ordinal));
        cloud.Fake.BootAll();
        Assert.Equal(ProviderPhase.Hot, (await provider.StatusAsync("i-030")).Phase);
        await provider.StopAsync("i-030");
        await provider.ResumeAsync("i-030");
        Assert.Contains(fake.Requests, r => r.Contains("podBidResume", StringComparison.Ordinal));
        Assert.DoesNotContain(fake.Requests, r => r.Contains("podResume(", StringComparison.Ordinal));
        Assert.All(fake.Requests.Where(r => r.StartsWith("GET", StringComparison.Ordinal)), r => Assert.StartsWith("GET /v2/pods", r, StringComparison.Ordinal));

        // Spot gone: the GraphQL error (HTTP 200, errors[]) is "unavailable".
        fake.NoSpotCapacity = true;
        var refused = await Assert.ThrowsAsync<ProviderException>(() => provider.RentAsync("i-031", cloud.GpuType));
        Assert.Equal("unavailable", refused.Code);
        Assert.Empty(cloud.Fake.Refused);
    }

    [Fact]
    public async Task AVastBidTooLowCreatesAStoppedInstanceThatIsDestroyedAtOnce()
    {
        using var cloud = CloudUnderTest.Create("vast");
        var provider = Provider(cloud, spot: true, bidMargin: -0.5m); // half the minimum bid: refused everywhere
        var refused = await Assert.ThrowsAsync<ProviderException>(() => provider.RentAsync("i-040", cloud.GpuType));

        Assert.Equal("unavailable", refused.Code);
        Assert.Contains("bid", refused.Message, StringComparison.Ordinal);
        Assert.NotEmpty(cloud.Fake.Machines);
        Assert.All(cloud.Fake.Machines, m => Assert.Equal(FakePhase.Gone, m.Phase)); // each created stopped, each destroyed
        Assert.Contains(cloud.Fake.Requests, r => r.Contains("\"price\":", StringComparison.Ordinal)); // a bid is a price; no price would be on-demand
        Assert.Empty(cloud.Fake.Refused);
    }

    [Fact]
    public async Task VastsInstanceListIsReadPageByPage()
    {
        using var cloud = CloudUnderTest.Create("vast");
        var fake = (FakeVast)cloud.Fake;
        for (var i = 0; i < 30; i++)
        {
            fake.Offers[5_000_000 + i] = ("RTX 3090", 0.2m + (i / 1000m), 0.1m, "Texas, US");
        }

        var offers = await cloud.Api.OffersAsync();
        var launched = new ConcurrentBag<string>();
        foreach (var offer in offers.Where(o => o.GpuType == "RTX 3090" && !o.Spot))
        {
            launched.Add(await cloud.Api.LaunchAsync(new CloudLaunch($"{CloudUnderTest.Prefix}p{offer.OfferId}", offer, null, new CloudStartup("img", new Dictionary<string, string>()))));
        }

        cloud.Fake.AddForeign("not-ours", "RTX 3090");
        var ours = await cloud.Api.ListAsync();
        Assert.Equal(30, ours.Count);
        Assert.Equal(launched.Order(StringComparer.Ordinal), ours.Select(m => m.Id).Order(StringComparer.Ordinal));
        Assert.Contains(cloud.Fake.Requests, r => r.StartsWith("GET /api/v1/instances/", StringComparison.Ordinal)); // 31 machines: two pages (the fake refuses a limit over 25)
        Assert.Empty(cloud.Fake.Refused);
    }

    private sealed class Join(Func<string, bool> joined) : IClusterJoin
    {
        public Task<bool> JoinedAsync(string instanceId, CancellationToken cancellationToken = default) => Task.FromResult(joined(instanceId));
    }
}
