using System.Collections.Concurrent;
using Actors.Fleet.Providers;
using Actors.Fleet.Providers.Lambda;
using Actors.Grains.Instances;

namespace Actors.Fleet.Tests.Providers;

/// <summary>Lambda behind the provider interface, against <see cref="FakeLambdaCloud"/>: a rent
/// launches one machine named after the instance, with its cloud-init; it is HOT only once its
/// silo has joined (Lambda's "active" is not ready); a repeated rent adopts the machine instead of
/// launching another; release terminates; stop is not supported. Verified against the fake only.</summary>
public sealed class LambdaProviderTests : IDisposable
{
    private readonly FakeLambdaCloud _cloud = new(TimeSpan.FromMilliseconds(50));
    private readonly ConcurrentDictionary<string, bool> _joined = new();
    private readonly LambdaCloudClient _client;
    private readonly LambdaProvider _provider;

    public LambdaProviderTests()
    {
        _client = new LambdaCloudClient(new LambdaCloudOptions
        {
            BaseUrl = _cloud.Url, ApiKey = FakeLambdaCloud.Key, SshKeyName = "ops-key", NamePrefix = "actors-test-",
            LaunchIntervalSeconds = 0.05, RequestIntervalSeconds = 0, RateLimitBackoffSeconds = 0.05,
        }, TimeProvider.System);
        _provider = new LambdaProvider(_client, new LambdaProviderOptions
        {
            NamePrefix = "actors-test-", Regions = ["us-west-1", "us-east-1"], UserDataTemplate = "#cloud-config\nruncmd: [[actors-gpu-host, --Cluster:InstanceId={instanceId}]]\n",
        }, id => _joined.GetValueOrDefault(id), TimeProvider.System);
    }

    public void Dispose()
    {
        _client.Dispose();
        _cloud.Dispose();
    }

    [Fact]
    public async Task ARentIsHotOnlyWhenItsSiloHasJoinedAndAReleaseTerminatesIt()
    {
        await _provider.RefreshOffersAsync();
        Assert.Contains(_provider.PriceList, o => o is { GpuType: "gpu_1x_a10", HotPerHour: 0.75m, WarmPerHour: 0.75m, Spot: false });
        Assert.False(_provider.Capabilities.CanStop);

        var ticket = await _provider.RentAsync("gpu-7", "gpu_1x_a10");
        Assert.Equal(ProviderOperation.Rent, ticket.Operation);
        var machine = Assert.Single(_cloud.Machines);
        Assert.Equal("actors-test-gpu-7", machine.Name);
        Assert.Contains(_cloud.Requests, r => r.Contains("\"region_name\":\"us-west-1\"", StringComparison.Ordinal) && r.Contains("InstanceId=gpu-7", StringComparison.Ordinal));

        Assert.Equal((ProviderPhase.Renting, InstanceState.Cold), Phase(await _provider.StatusAsync("gpu-7"))); // booting
        _cloud.BootAll();
        Assert.Equal((ProviderPhase.Renting, InstanceState.Cold), Phase(await _provider.StatusAsync("gpu-7"))); // active at Lambda, not joined
        _joined["gpu-7"] = true;
        Assert.Equal((ProviderPhase.Hot, InstanceState.Hot), Phase(await _provider.StatusAsync("gpu-7")));

        Assert.Equal("not_supported", (await Assert.ThrowsAsync<ProviderException>(() => _provider.StopAsync("gpu-7"))).Code);
        await _provider.ReleaseAsync("gpu-7");
        Assert.Equal("terminated", Assert.Single(_cloud.Machines).Status);
        Assert.Equal((ProviderPhase.Cold, InstanceState.Cold), Phase(await _provider.StatusAsync("gpu-7")));
        Assert.Empty(_cloud.Refused);
    }

    [Fact]
    public async Task ARentAgainAdoptsTheMachineAndAnotherProviderFindsItByName()
    {
        await _provider.RefreshOffersAsync();
        await _provider.RentAsync("gpu-8", "gpu_1x_a10");
        await _provider.RentAsync("gpu-8", "gpu_1x_a10"); // a retried rent
        Assert.Single(_cloud.Machines);

        // A control silo that restarted knows no ids: it finds ours by name.
        var restarted = new LambdaProvider(_client, new LambdaProviderOptions { NamePrefix = "actors-test-" }, _ => true, TimeProvider.System);
        _cloud.BootAll();
        Assert.Equal(ProviderPhase.Hot, (await restarted.StatusAsync("gpu-8")).Phase);
        Assert.Equal(ProviderPhase.Cold, (await restarted.StatusAsync("gpu-unknown")).Phase);
    }

    [Fact]
    public async Task NoCapacityInTheChosenRegionsIsUnavailable()
    {
        await _provider.RefreshOffersAsync();
        Assert.Equal("unavailable", (await Assert.ThrowsAsync<ProviderException>(() => _provider.RentAsync("gpu-9", "gpu_1x_h100_pcie"))).Code); // only in us-west-3
        Assert.Equal("unknown_gpu", (await Assert.ThrowsAsync<ProviderException>(() => _provider.RentAsync("gpu-9", "gpu_1x_nothing"))).Code);
        Assert.Empty(_cloud.Machines);
    }

    private static (ProviderPhase, InstanceState) Phase(ProviderStatus s) => (s.Phase, s.Settled);
}
