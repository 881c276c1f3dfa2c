using Actors.Fleet.Providers;
using Actors.Fleet.Providers.Cloud;
using Actors.Fleet.Providers.Lambda;

namespace Actors.Fleet.Tests.Providers;

/// <summary>The Lambda Cloud client against <see cref="FakeLambdaCloud"/>, a loopback server as
/// strict as Lambda's OpenAPI: what goes on the wire, how Lambda's errors become ours, pacing, the
/// key from a secrets file. Verified against the fake only: no test here reaches Lambda.</summary>
public sealed class LambdaCloudClientTests : IDisposable
{
    private static readonly TimeSpan LaunchInterval = TimeSpan.FromMilliseconds(400);

    private readonly FakeLambdaCloud _cloud = new(LaunchInterval);

    private LambdaCloudClient Client(string? key = FakeLambdaCloud.Secret, string? keyFile = null) => new(new LambdaCloudOptions
    {
        BaseUrl = _cloud.Url, ApiKey = key, ApiKeyFile = keyFile, SshKeyName = "ops-key", NamePrefix = "actors-test-",
        LaunchIntervalSeconds = LaunchInterval.TotalSeconds, RequestIntervalSeconds = 0.01, RateLimitBackoffSeconds = 0.1, TimeoutSeconds = 10,
    }, TimeProvider.System);

    private static CloudLaunch Launch(string name, CloudOffer offer) =>
        new(name, offer, null, new CloudStartup("ghcr.io/example/actors-gpu-silo:1", new Dictionary<string, string> { ["Cluster__InstanceId"] = name[12..], ["Blobs__S3__SecretKey"] = "it's secret" }));

    public void Dispose() => _cloud.Dispose();

    [Fact]
    public async Task OffersAreTheInstanceTypesPerRegionWithCapacityAtTheirDollarsAnHour()
    {
        using var client = Client();
        var offers = await client.OffersAsync();

        Assert.Equal(["gpu_1x_a10 us-east-1", "gpu_1x_a10 us-west-1", "gpu_1x_h100_pcie us-west-3", "gpu_8x_a100_80gb_sxm4 "], offers.Select(o => $"{o.GpuType} {o.Region}"));
        Assert.Equal([0.75m, 0.75m, 2.49m, 14.32m], offers.Select(o => o.PerHour));
        Assert.False(offers[3].Available); // no region has A100s now
        Assert.All(offers, o => Assert.Equal(o.PerHour, o.StoppedPerHour)); // no stopped state: nothing cheaper
        Assert.False(client.Capabilities.CanStop || client.Capabilities.Spot); // Lambda: no stop, no spot
        Assert.Empty(_cloud.Refused);
    }

    [Fact]
    public async Task LaunchesSendTheDocumentedBodyWithACloudInitAndArePacedToLambdasLaunchLimit()
    {
        using var client = Client();
        var offers = await client.OffersAsync();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var first = await client.LaunchAsync(Launch("actors-test-gpu-1", offers[0]));
        var second = await client.LaunchAsync(Launch("actors-test-gpu-2", offers[1]));

        Assert.NotEqual(first, second);
        Assert.True(clock.Elapsed >= LaunchInterval, $"two launches in {clock.Elapsed.TotalMilliseconds:0} ms; Lambda allows one per {LaunchInterval.TotalMilliseconds:0} ms");
        Assert.Empty(_cloud.Refused); // every request had the shape Lambda's API takes, and none was rate limited
        var launch = _cloud.Requests.First(r => r.StartsWith("POST /api/v1/instance-operations/launch", StringComparison.Ordinal));
        Assert.Contains("\"ssh_key_names\":[\"ops-key\"]", launch, StringComparison.Ordinal);
        Assert.Contains("#cloud-config", launch, StringComparison.Ordinal);

        // The cloud-init's docker run carries the environment, quotes and all.
        var machine = _cloud.Machines.Single(m => m.Id == first);
        Assert.Equal(("gpu-1", "it's secret"), (machine.Environment["Cluster__InstanceId"], machine.Environment["Blobs__S3__SecretKey"]));
        Assert.Equal(CloudMachineState.Starting, (await client.GetAsync(first))!.State);
        _cloud.BootAll();
        Assert.Equal(CloudMachineState.Running, (await client.GetAsync(first))!.State); // running at Lambda is not joined
        Assert.Null(await client.GetAsync("no-such-instance"));
    }

    [Fact]
    public async Task NoCapacityIsUnavailableByLambdasCode()
    {
        using var client = Client();
        var offers = await client.OffersAsync();
        var refused = await Assert.ThrowsAsync<ProviderException>(() => client.LaunchAsync(Launch("actors-test-big", offers[3] with { Region = "us-east-1" })));
        Assert.Equal("unavailable", refused.Code);
        Assert.Contains("insufficient-capacity", refused.Message, StringComparison.Ordinal);
        Assert.Empty(_cloud.Machines);
    }

    [Fact]
    public async Task AKeyIsNeededAndMayComeFromASecretsFile()
    {
        var missing = Assert.Throws<ProviderException>(() => Client(key: null, keyFile: "/nonexistent/lambda-key"));
        Assert.Equal("unauthorized", missing.Code);
        Assert.Contains("Providers:Lambda:ApiKeyFile", missing.Message, StringComparison.Ordinal);

        var file = Path.GetTempFileName();
        await File.WriteAllTextAsync(file, "\n" + FakeLambdaCloud.Secret + "\n");
        try
        {
            using var client = Client(key: null, keyFile: file);
            Assert.Equal(4, (await client.OffersAsync()).Count);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task OnlyMachinesWithTheClustersPrefixAreListedAndNoneIsLaunchedWithoutIt()
    {
        using var client = Client();
        var offers = await client.OffersAsync();
        _cloud.AddForeign("someone-elses-training-run", "gpu_1x_a10");
        var ours = await client.LaunchAsync(Launch("actors-test-gpu-3", offers[0]));

        Assert.Equal([ours], (await client.ListAsync()).Select(m => m.Id));
        Assert.Equal("invalid_name", (await Assert.ThrowsAsync<ProviderException>(() => client.LaunchAsync(Launch("unprefixed-gpu-3", offers[0])))).Code);
        Assert.Empty(_cloud.Refused);
    }
}
