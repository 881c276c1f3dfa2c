using System.Collections.Concurrent;
using Actors.Fleet.Providers;
using Actors.Fleet.Providers.Cloud;
using Actors.Grains.Instances;

namespace Actors.Fleet.Tests.Providers;

/// <summary>Each cloud behind the provider interface, against its strict fake: a rent launches one
/// machine named after the instance running our image with the cluster's settings; it is HOT only
/// once its silo has joined (the cloud's "running" is not ready); stop and resume where the cloud
/// has them; release terminates; a create that erred after renting is adopted by name, never
/// launched twice; no capacity rents nothing; a spot machine the market stops, or one whose silo
/// goes silent, is lost (terminated, reported preempted); reconciliation ends our orphans and
/// never touches a machine without our prefix. Verified against the fakes only.</summary>
public sealed class CloudProviderTests
{
    private readonly ConcurrentDictionary<string, bool> _joined = new();

    private CloudProvider Provider(CloudUnderTest cloud, bool spot = false, decimal bidMargin = 0.1m, double lostAfter = 10) =>
        new(cloud.Api, new CloudProviderOptions
        {
            Spot = spot, BidMargin = bidMargin, LostAfterSeconds = lostAfter, Image = "ghcr.io/example/actors-gpu-silo:1",
            Environment = new Dictionary<string, string> { ["Cluster__Redis"] = "redis.internal:6380,ssl=true,password=p'w" },
        }, new Join(_joined), TimeProvider.System);

    [Theory]
    [MemberData(nameof(CloudUnderTest.All), MemberType = typeof(CloudUnderTest))]
    public async Task ARentIsHotOnlyWhenItsSiloHasJoinedStopsAndResumesWhereItCanAndAReleaseTerminatesIt(string name)
    {
        using var cloud = CloudUnderTest.Create(name);
        var provider = Provider(cloud);
        await provider.RefreshOffersAsync();
        Assert.Contains(provider.PriceList, o => o.GpuType == cloud.GpuType && o.HotPerHour > 0 && !o.Spot);
        Assert.True(provider.Capabilities.RentsRunning);

        await provider.RentAsync("i-007", cloud.GpuType);
        var machine = Assert.Single(cloud.Fake.Machines);
        Assert.Equal("actors-test-i-007", machine.Name);
        Assert.Equal(("i-007", "gpu", "redis.internal:6380,ssl=true,password=p'w"),
            (machine.Environment["Cluster__InstanceId"], machine.Environment["Cluster__Roles"], machine.Environment["Cluster__Redis"]));

        Assert.Equal((ProviderPhase.Renting, InstanceState.Cold), Phase(await provider.StatusAsync("i-007"))); // starting
        cloud.Fake.BootAll();
        Assert.Equal((ProviderPhase.Renting, InstanceState.Cold), Phase(await provider.StatusAsync("i-007"))); // running at the cloud, not joined
        _joined["i-007"] = true;
        Assert.Equal((ProviderPhase.Hot, InstanceState.Hot), Phase(await provider.StatusAsync("i-007")));

        if (provider.Capabilities.CanStop)
        {
            await provider.StopAsync("i-007");
            _joined["i-007"] = false;
            Assert.Equal((ProviderPhase.Warm, InstanceState.Warm), Phase(await provider.StatusAsync("i-007")));
            Assert.True(provider.PriceList.Single(o => o.GpuType == cloud.GpuType).WarmPerHour < provider.PriceList.Single(o => o.GpuType == cloud.GpuType).HotPerHour);

            await provider.ResumeAsync("i-007");
            Assert.Equal((ProviderPhase.Resuming, InstanceState.Warm), Phase(await provider.StatusAsync("i-007")));
            cloud.Fake.BootAll();
            Assert.Equal((ProviderPhase.Resuming, InstanceState.Warm), Phase(await provider.StatusAsync("i-007")));
            _joined["i-007"] = true;
            Assert.Equal((ProviderPhase.Hot, InstanceState.Hot), Phase(await provider.StatusAsync("i-007")));
            Assert.Equal(2, Assert.Single(cloud.Fake.Machines).Runs);
        }
        else
        {
            Assert.Equal("not_supported", (await Assert.ThrowsAsync<ProviderException>(() => provider.StopAsync("i-007"))).Code);
            Assert.Equal(provider.PriceList[0].HotPerHour, provider.PriceList[0].WarmPerHour); // no WARM rate that is not HOT's
        }

        await provider.ReleaseAsync("i-007");
        Assert.Equal(FakePhase.Gone, Assert.Single(cloud.Fake.Machines).Phase);
        Assert.Equal((ProviderPhase.Cold, InstanceState.Cold), Phase(await provider.StatusAsync("i-007")));
        Assert.Empty(cloud.Fake.Refused);
    }

    [Theory]
    [MemberData(nameof(CloudUnderTest.All), MemberType = typeof(CloudUnderTest))]
    public async Task ACreateThatFailedAfterRentingIsFoundByItsNameNotRentedTwice(string name)
    {
        using var cloud = CloudUnderTest.Create(name);
        var provider = Provider(cloud);
        cloud.Fake.FailAfterNextLaunch = true; // a 500, but the machine exists
        await provider.RentAsync("i-009", cloud.GpuType);
        await provider.RentAsync("i-009", cloud.GpuType); // the instance grain tries again: adopted

        Assert.Equal("actors-test-i-009", Assert.Single(cloud.Fake.Machines).Name);
        Assert.Empty(cloud.Fake.Refused);
    }

    [Theory]
    [MemberData(nameof(CloudUnderTest.All), MemberType = typeof(CloudUnderTest))]
    public async Task NoCapacityIsUnavailableAndRentsNothing(string name)
    {
        using var cloud = CloudUnderTest.Create(name);
        var provider = Provider(cloud);
        await provider.RefreshOffersAsync();
        cloud.Fake.NoCapacity = true;
        var refused = await Assert.ThrowsAsync<ProviderException>(() => provider.RentAsync("i-010", cloud.GpuType));
        Assert.Equal("unavailable", refused.Code);
        Assert.Empty(cloud.Fake.Machines);
    }

    [Theory]
    [MemberData(nameof(CloudUnderTest.Stoppable), MemberType = typeof(CloudUnderTest))]
    public async Task ASpotMachineTheMarketStopsIsLostTerminatedAndReportedPreempted(string name)
    {
        using var cloud = CloudUnderTest.Create(name);
        var provider = Provider(cloud, spot: true);
        await provider.RefreshOffersAsync();
        Assert.True(provider.Capabilities.Spot);
        Assert.All(provider.PriceList, o => Assert.True(o.Spot));

        await provider.RentAsync("i-011", cloud.GpuType);
        var machine = Assert.Single(cloud.Fake.Machines);
        Assert.True(machine.Spot);
        Assert.NotNull(machine.Bid);
        cloud.Fake.BootAll();
        _joined["i-011"] = true;
        Assert.Equal(ProviderPhase.Hot, (await provider.StatusAsync("i-011")).Phase);

        string? lost = null;
        provider.Lost += (_, why) => lost = why;
        cloud.Fake.Preempt(machine.Id);
        var status = await provider.StatusAsync("i-011");
        Assert.Equal((ProviderPhase.Preempted, InstanceState.Cold), Phase(status));
        Assert.Contains("spot preemption", status.Error, StringComparison.Ordinal);
        Assert.Equal(status.Error, lost);
        Assert.Equal(FakePhase.Gone, Assert.Single(cloud.Fake.Machines).Phase); // a stopped spot machine still bills its disk: ended
        var again = await provider.StatusAsync("i-011"); // asked again (the instance's turn that heard it may have failed): the same answer
        Assert.Equal((ProviderPhase.Preempted, status.Error), (again.Phase, again.Error));
        Assert.Empty(cloud.Fake.Refused);
    }

    [Theory]
    [MemberData(nameof(CloudUnderTest.All), MemberType = typeof(CloudUnderTest))]
    public async Task AMachineWhoseSiloStopsHeartBeatingIsLostWithoutWaitingForTheCloud(string name)
    {
        using var cloud = CloudUnderTest.Create(name);
        var provider = Provider(cloud, lostAfter: 0);
        await provider.RentAsync("i-012", cloud.GpuType);
        cloud.Fake.BootAll();
        _joined["i-012"] = true;
        Assert.Equal(ProviderPhase.Hot, (await provider.StatusAsync("i-012")).Phase);

        _joined["i-012"] = false; // its silo left membership; the cloud still says running
        var status = await provider.StatusAsync("i-012");
        Assert.Equal(ProviderPhase.Preempted, status.Phase);
        Assert.Contains("heart-beating", status.Error, StringComparison.Ordinal);
        Assert.Equal(FakePhase.Gone, Assert.Single(cloud.Fake.Machines).Phase);
    }

    [Theory]
    [MemberData(nameof(CloudUnderTest.All), MemberType = typeof(CloudUnderTest))]
    public async Task AMachineThatNeverComesUpStaysRentingUntilReleased(string name)
    {
        using var cloud = CloudUnderTest.Create(name, bootDelay: TimeSpan.Zero);
        var provider = Provider(cloud);
        cloud.Fake.NeverBoot = true;
        await provider.RentAsync("i-013", cloud.GpuType);
        cloud.Fake.BootAll();
        Assert.Equal(ProviderPhase.Renting, (await provider.StatusAsync("i-013")).Phase); // the instance grain's time-out releases it
        await provider.ReleaseAsync("i-013");
        Assert.Equal(FakePhase.Gone, Assert.Single(cloud.Fake.Machines).Phase);
    }

    [Theory]
    [MemberData(nameof(CloudUnderTest.All), MemberType = typeof(CloudUnderTest))]
    public async Task ReconciliationEndsOurOrphansKeepsWhatTheClusterHoldsAndNeverTouchesOthers(string name)
    {
        using var cloud = CloudUnderTest.Create(name);
        var provider = Provider(cloud);
        var foreign = cloud.Fake.AddForeign("someone-elses-training-run", cloud.GpuType);
        await provider.RentAsync("i-020", cloud.GpuType);
        await provider.RentAsync("i-021", cloud.GpuType);

        // A second control silo's view after a restart: nothing launched recently; only i-020 is held.
        var report = await CloudReconciliation.ReconcileAsync(cloud.Api, (id, _) => Task.FromResult(id == "i-020"), _ => false);

        Assert.Equal(["i-020"], report.Kept);
        Assert.Single(report.Terminated, t => t.StartsWith("actors-test-i-021", StringComparison.Ordinal));
        Assert.Empty(report.Errors);
        var machines = cloud.Fake.Machines;
        Assert.Equal(FakePhase.Running, machines.Single(m => m.Id == foreign).Phase);
        Assert.Equal(FakePhase.Gone, machines.Single(m => m.Name == "actors-test-i-021").Phase);
        Assert.NotEqual(FakePhase.Gone, machines.Single(m => m.Name == "actors-test-i-020").Phase);

        var notOurs = await Assert.ThrowsAsync<ProviderException>(() => cloud.Api.TerminateAsync(new CloudMachine(foreign, "someone-elses-training-run", CloudMachineState.Running, false, 1, "running")));
        Assert.Equal("not_ours", notOurs.Code);
        Assert.Equal(FakePhase.Running, cloud.Fake.Machines.Single(m => m.Id == foreign).Phase);

        // A launch in flight is left alone even where no instance holds it yet.
        var inFlight = await CloudReconciliation.ReconcileAsync(cloud.Api, (_, _) => Task.FromResult(false), provider.LaunchedRecently);
        Assert.Empty(inFlight.Terminated);
        Assert.Empty(cloud.Fake.Refused);
    }

    [Theory]
    [MemberData(nameof(CloudUnderTest.All), MemberType = typeof(CloudUnderTest))]
    public async Task AWrongKeyIsUnauthorizedAndNoMessageCarriesTheKey(string name)
    {
        using var cloud = CloudUnderTest.Create(name, key: "secret_wrong_key_987");
        var refused = await Assert.ThrowsAsync<ProviderException>(() => cloud.Api.OffersAsync());
        Assert.Equal("unauthorized", refused.Code);
        Assert.DoesNotContain("secret_wrong_key_987", refused.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("lambda", null)]
    [InlineData("runpod", 1)]
    [InlineData("vast", null)]
    public async Task RateLimitedRequestsAreWaitedOutWithOrWithoutRetryAfter(string name, int? retryAfter)
    {
        using var cloud = CloudUnderTest.Create(name);
        cloud.Fake.RateLimitNext = (2, retryAfter);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var offers = await cloud.Api.OffersAsync();

        Assert.NotEmpty(offers);
        Assert.Equal(3, cloud.Fake.Requests.Count); // two refused, the third answered
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(retryAfter is { } s ? 2 * s : 0.25), $"retried after {clock.Elapsed.TotalMilliseconds:0} ms");
    }

    private static (ProviderPhase, InstanceState) Phase(ProviderStatus status) => (status.Phase, status.Settled);

    private sealed class Join(ConcurrentDictionary<string, bool> joined) : IClusterJoin
    {
        public Task<bool> JoinedAsync(string instanceId, CancellationToken cancellationToken = default) => Task.FromResult(joined.GetValueOrDefault(instanceId));
    }
}
