using Actors.Fleet.Providers;
using Actors.Fleet.Providers.Lambda;

namespace Actors.Fleet.Tests.Providers;

/// <summary>The Lambda Cloud client against <see cref="FakeLambdaCloud"/>, a loopback server as
/// strict as Lambda's OpenAPI: what goes on the wire, how Lambda's errors become ours, pacing, and
/// the two ways money leaks — a launch that rented although it failed, and a machine that is not
/// ours. Verified against the fake only: no test here reaches Lambda.</summary>
public sealed class LambdaCloudClientTests : IDisposable
{
    private static readonly TimeSpan LaunchInterval = TimeSpan.FromMilliseconds(400);

    private readonly FakeLambdaCloud _cloud = new(LaunchInterval);

    private LambdaCloudClient Client(string? key = FakeLambdaCloud.Key, string? keyFile = null) => new(new LambdaCloudOptions
    {
        BaseUrl = _cloud.Url, ApiKey = key, ApiKeyFile = keyFile, SshKeyName = "ops-key", NamePrefix = "actors-test-",
        LaunchIntervalSeconds = LaunchInterval.TotalSeconds, RequestIntervalSeconds = 0.01, RateLimitBackoffSeconds = 0.1, TimeoutSeconds = 10,
    }, TimeProvider.System);

    public void Dispose() => _cloud.Dispose();

    [Fact]
    public async Task OffersAreTheInstanceTypesWithTheirDollarsAnHourAndWhereThereIsCapacity()
    {
        using var client = Client();
        var offers = await client.OffersAsync();

        Assert.Equal(["gpu_1x_a10", "gpu_1x_h100_pcie", "gpu_8x_a100_80gb_sxm4"], offers.Select(o => o.InstanceType));
        Assert.Equal([0.75m, 2.49m, 14.32m], offers.Select(o => o.PerHour));
        Assert.Equal((true, true, false), (offers[0].Available, offers[1].Available, offers[2].Available)); // no region has A100s now
        Assert.Equal(8, offers[2].Gpus);
        Assert.False(LambdaCloudClient.Capabilities.CanStop || LambdaCloudClient.Capabilities.Spot); // Lambda: no stop, no spot
        Assert.Empty(_cloud.Refused);
    }

    [Fact]
    public async Task LaunchesSendTheDocumentedBodyAndArePacedToLambdasLaunchLimit()
    {
        using var client = Client();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var first = await client.LaunchAsync("actors-test-gpu-1", "gpu_1x_a10", "us-east-1", userData: "#cloud-config\n");
        var second = await client.LaunchAsync("actors-test-gpu-2", "gpu_1x_a10", "us-west-1");

        Assert.NotEqual(first, second);
        Assert.True(clock.Elapsed >= LaunchInterval, $"two launches in {clock.Elapsed.TotalMilliseconds:0} ms; Lambda allows one per {LaunchInterval.TotalMilliseconds:0} ms");
        Assert.Empty(_cloud.Refused); // every request had the shape Lambda's API takes, and none was rate limited
        var launch = _cloud.Requests.First(r => r.StartsWith("POST /api/v1/instance-operations/launch", StringComparison.Ordinal));
        Assert.Contains("\"ssh_key_names\":[\"ops-key\"]", launch, StringComparison.Ordinal);
        Assert.Contains("\"quantity\":1", launch, StringComparison.Ordinal);

        var machine = await client.GetAsync(first);
        Assert.Equal(("actors-test-gpu-1", "booting", false), (machine!.Name, machine.Status, machine.Active)); // running at Lambda is not joined
        _cloud.BootAll();
        Assert.True((await client.GetAsync(first))!.Active);
        Assert.Null(await client.GetAsync("no-such-instance"));
    }

    [Fact]
    public async Task NoCapacityIsUnavailableAndRentsNothing()
    {
        using var client = Client();
        var refused = await Assert.ThrowsAsync<ProviderException>(() => client.LaunchAsync("actors-test-big", "gpu_8x_a100_80gb_sxm4", "us-east-1"));
        Assert.Equal("unavailable", refused.Code);
        Assert.Contains("insufficient-capacity", refused.Message, StringComparison.Ordinal);
        Assert.Empty(_cloud.Machines);
    }

    [Fact]
    public async Task ALaunchThatFailedAfterRentingIsFoundByItsNameNotLaunchedTwice()
    {
        using var client = Client();
        _cloud.FailAfterNextLaunch = true; // a 500, but the machine exists
        var id = await client.LaunchAsync("actors-test-gpu-9", "gpu_1x_h100_pcie", "us-west-3");

        var machine = Assert.Single(_cloud.Machines);
        Assert.Equal((id, "actors-test-gpu-9"), (machine.Id, machine.Name));
        Assert.Single(_cloud.Requests, r => r.StartsWith("POST /api/v1/instance-operations/launch", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(null)]
    [InlineData(1)]
    public async Task RateLimitedRequestsAreWaitedOutWithOrWithoutRetryAfter(int? retryAfter)
    {
        using var client = Client();
        _cloud.RateLimitNext = (2, retryAfter);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var offers = await client.OffersAsync();

        Assert.Equal(3, offers.Count);
        Assert.Equal(3, _cloud.Requests.Count); // two refused, the third answered
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(retryAfter is { } s ? 2 * s : 0.3), $"retried after {clock.Elapsed.TotalMilliseconds:0} ms");
    }

    [Fact]
    public async Task AWrongKeyIsUnauthorizedAndNoMessageCarriesTheKey()
    {
        using var wrong = Client(key: "secret_wrong_key_987");
        var refused = await Assert.ThrowsAsync<ProviderException>(() => wrong.OffersAsync());
        Assert.Equal("unauthorized", refused.Code);
        Assert.DoesNotContain("secret_wrong_key_987", refused.ToString(), StringComparison.Ordinal);

        using var right = Client();
        var gone = await Assert.ThrowsAsync<ProviderException>(() => right.LaunchAsync("actors-test-x", "gpu_9x_nothing", "us-east-1"));
        Assert.Equal("invalid_request", gone.Code);
        Assert.DoesNotContain(FakeLambdaCloud.Key, gone.ToString(), StringComparison.Ordinal);

        var missing = Assert.Throws<ProviderException>(() => Client(key: null, keyFile: "/nonexistent/lambda-key"));
        Assert.Equal("unauthorized", missing.Code);
        Assert.Contains("Providers:Lambda:ApiKeyFile", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheKeyMayComeFromASecretsFile()
    {
        var file = Path.GetTempFileName();
        await File.WriteAllTextAsync(file, "\n" + FakeLambdaCloud.Key + "\n");
        try
        {
            using var client = Client(key: null, keyFile: file);
            Assert.Equal(3, (await client.OffersAsync()).Count);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task OnlyMachinesWithTheClustersPrefixAreListedOrTerminated()
    {
        using var client = Client();
        var foreign = _cloud.AddForeign("someone-elses-training-run");
        var ours = await client.LaunchAsync("actors-test-gpu-3", "gpu_1x_a10", "us-east-1");

        Assert.Equal([ours], (await client.ListOursAsync()).Select(m => m.Id));
        var refused = await Assert.ThrowsAsync<ProviderException>(() => client.TerminateAsync(foreign));
        Assert.Equal("not_ours", refused.Code);
        Assert.Equal("active", _cloud.Machines.Single(m => m.Id == foreign).Status);
        Assert.Throws<ProviderException>(() => client.LaunchAsync("unprefixed", "gpu_1x_a10", "us-east-1").GetAwaiter().GetResult());

        Assert.True(await client.TerminateAsync(ours));
        Assert.Equal("terminated", _cloud.Machines.Single(m => m.Id == ours).Status);
        Assert.True(await client.TerminateAsync(ours)); // gone already: nothing to do
        Assert.Empty(_cloud.Refused);
    }
}
