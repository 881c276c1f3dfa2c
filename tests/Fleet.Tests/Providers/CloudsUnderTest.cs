using Actors.Fleet.Providers.Cloud;
using Actors.Fleet.Providers.Lambda;
using Actors.Fleet.Providers.RunPod;
using Actors.Fleet.Providers.Vast;

namespace Actors.Fleet.Tests.Providers;

/// <summary>One cloud's fake and our adapter for it, paced for tests (Vast's intervals scaled down,
/// the fake enforcing the same scaled intervals).</summary>
public sealed class CloudUnderTest : IDisposable
{
    public const string Prefix = "actors-test-";

    private CloudUnderTest(FakeCloud fake, ICloudApi api, string gpuType)
    {
        Fake = fake;
        Api = api;
        GpuType = gpuType;
    }

    public FakeCloud Fake { get; }

    public ICloudApi Api { get; }

    /// <summary>A GPU type the fake has capacity for, in the cloud's own naming.</summary>
    public string GpuType { get; }

    public static readonly TheoryData<string> All = ["lambda", "runpod", "vast"];

    public static readonly TheoryData<string> Stoppable = ["runpod", "vast"];

    public static CloudUnderTest Create(string cloud, string? key = null, TimeSpan? bootDelay = null, string prefix = Prefix)
    {
        const double VastScale = 0.02; // 6 s → 120 ms, 1 s → 20 ms
        FakeCloud fake = cloud switch
        {
            "lambda" => new FakeLambdaCloud(TimeSpan.FromMilliseconds(50)),
            "runpod" => new FakeRunPod(),
            "vast" => new FakeVast(VastScale),
            _ => throw new ArgumentOutOfRangeException(nameof(cloud)),
        };
        fake.BootDelay = bootDelay;
        key ??= fake.Key;
        ICloudApi api = cloud switch
        {
            "lambda" => new LambdaCloudClient(new LambdaCloudOptions
            {
                BaseUrl = ((FakeLambdaCloud)fake).Url, ApiKey = key, SshKeyName = "ops-key", NamePrefix = prefix,
                LaunchIntervalSeconds = 0.06, RequestIntervalSeconds = 0, RateLimitBackoffSeconds = 0.1, TimeoutSeconds = 10,
            }, TimeProvider.System),
            "runpod" => new RunPodClient(new RunPodOptions
            {
                BaseUrl = fake.Root, ApiKey = key, NamePrefix = prefix, RequestIntervalSeconds = 0, RateLimitBackoffSeconds = 0.1, TimeoutSeconds = 10,
            }, TimeProvider.System),
            _ => new VastClient(new VastOptions
            {
                BaseUrl = fake.Root + "/api", ApiKey = key, NamePrefix = prefix, EndpointIntervalScale = VastScale, RateLimitBackoffSeconds = 0.1, TimeoutSeconds = 10,
            }, TimeProvider.System),
        };
        return new CloudUnderTest(fake, api, cloud switch { "lambda" => "gpu_1x_a10", "runpod" => "NVIDIA GeForce RTX 4090", _ => "RTX 4090" });
    }

    public void Dispose()
    {
        ((IDisposable)Api).Dispose();
        Fake.Dispose();
    }
}
