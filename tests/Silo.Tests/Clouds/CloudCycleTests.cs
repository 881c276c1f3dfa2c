using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Actors.Fleet.Tests.Providers;
using Actors.Silo.Tests.Cluster;
using static Actors.Silo.Tests.Fleet.FleetProbe;

namespace Actors.Silo.Tests.Clouds;

/// <summary>Each cloud adapter end to end: a control silo configured for the cloud (its strict fake
/// on loopback) rents a machine; the fake "boots" it by starting a real GPU-host silo process with
/// the environment our launch passed; the instance is HOT only once that silo joined with its
/// models; jobs run on it; it is stopped (WARM, the process ends) and resumed (a new process joins)
/// where the cloud can stop, and jobs run again; a release terminates the machine. Verified against
/// the fakes only.</summary>
public sealed class CloudCycleTests
{
    [Theory]
    [InlineData("runpod", "NVIDIA GeForce RTX 4090")]
    [InlineData("vast", "RTX 4090")]
    [InlineData("lambda", "gpu_1x_a10")]
    public async Task RentHotJobStopResumeJobTerminateThroughTheAdapter(string cloud, string gpuType)
    {
        using var fake = Fake(cloud);
        using var host = new SiloMachineHost();
        fake.Host = host;
        fake.BootDelay = TimeSpan.FromSeconds(1);
        var settings = CloudSilo(cloud, gpuType, fake, "cycle");
        using var control = await SiloProcess.StartAsync(settings);
        var api = new ApiClient(control.Http);
        var (_, key, _) = await api.CreateTenantAsync("pro");

        // Rent: the pool (min HOT 1) launches i-001; HOT once its silo joined, not when the cloud said running.
        var clock = Stopwatch.StartNew();
        var fleet = await WaitForAsync(control, f => Hot(f).Count == 1, $"one HOT instance on {cloud}{Failures(host)}", 180);
        var rentToHot = clock.Elapsed;
        var first = Hot(fleet).Single();
        Assert.Equal(("i-001", cloud), (first.GetProperty("id").GetString(), first.GetProperty("provider").GetString()));
        var machine = Assert.Single(fake.Machines);
        Assert.Equal(("actors-e2e-i-001", FakePhase.Running), (machine.Name, machine.Phase));
        Assert.True(first.GetProperty("measuredSeconds").GetProperty("launch").GetDouble() >= 1, "HOT no sooner than the machine booted (1 s) and its silo joined");
        var view = fleet.GetProperty("clouds").EnumerateArray().Single(c => c.GetProperty("provider").GetString() == cloud);
        Assert.True(view.GetProperty("offers").GetInt32() > 0);
        Assert.DoesNotContain(fake.Key, fleet.ToString(), StringComparison.Ordinal);

        Assert.All(await FinishAsync(api, key, await SubmitAsync(api, key, 3, seed: 10)), j => Assert.Equal("i-001", j.GetProperty("instance").GetString()));
        await SetAsync(control, new { autoscale = false });

        if (cloud != "lambda")
        {
            await ActAsync(control, "stop");
            await WaitForAsync(control, f => State(f, "i-001") == "WARM", "i-001 WARM", 90);
            Assert.Equal(FakePhase.Stopped, fake.Machines.Single().Phase);
            await ActAsync(control, "resume");
            await WaitForAsync(control, f => Hot(f).Count == 1, $"i-001 HOT again{Failures(host)}", 180);
            Assert.Equal(2, host.Started[machine.Id]); // a new silo process on the same machine
            Assert.All(await FinishAsync(api, key, await SubmitAsync(api, key, 3, seed: 20)), j => Assert.Equal("i-001", j.GetProperty("instance").GetString()));
        }
        else
        {
            using var stop = SiloFactory.AdminRequest(HttpMethod.Post, "/admin/instances/i-001/stop");
            var refused = await control.Http.SendAsync(stop);
            Assert.Equal(409, (int)refused.StatusCode); // Lambda cannot stop: never WARM
            Assert.Contains("release", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        await ActAsync(control, "release");
        fleet = await WaitForAsync(control, f => State(f, "i-001") == "COLD", "i-001 COLD", 90);
        Assert.Equal(FakePhase.Gone, fake.Machines.Single().Phase);
        Assert.True(Instance(fleet, "i-001").GetProperty("accruedUsd").GetDecimal() > 0);
        Assert.Empty(fake.Refused);
        Assert.Empty(host.Failures);
        var baseline = host.ReadySeconds.First();
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"rent-to-hot {cloud}: {rentToHot.TotalSeconds:0.0} s from the pool's start; the machine's silo start to ready {baseline:0.0} s (same run); fake boot 1 s; ratio {rentToHot.TotalSeconds / baseline:0.00}");
    }

    internal static FakeCloud Fake(string cloud) => cloud switch
    {
        "runpod" => new FakeRunPod(),
        "vast" => new FakeVast(0.05),
        _ => new FakeLambdaCloud(TimeSpan.FromMilliseconds(200)),
    };

    /// <summary>A control silo (api, control) renting from <paramref name="cloud"/>'s fake, paced for
    /// tests; machines named actors-e2e-…; they run the image with this silo's cluster settings.</summary>
    internal static Dictionary<string, string> CloudSilo(string cloud, string gpuType, FakeCloud fake, string name)
    {
        var settings = ControlSilo(TestDatabases.Create(name), TestBuckets.NewBucket(), cloud, gpuType);
        settings["Fleet:MaxInstances"] = "1";
        settings["Providers:Image"] = "actors-gpu-silo:test";
        settings["Providers:ReconcileSeconds"] = "2";
        var section = cloud switch { "runpod" => "Providers:RunPod", "vast" => "Providers:Vast", _ => "Providers:Lambda" };
        settings[$"{section}:Enabled"] = "true";
        settings[$"{section}:ApiKey"] = fake.Key;
        settings[$"{section}:NamePrefix"] = "actors-e2e-";
        settings[$"{section}:RequestIntervalSeconds"] = "0";
        settings[$"{section}:RateLimitBackoffSeconds"] = "0.2";
        settings[$"{section}:LostAfterSeconds"] = "3";
        settings[$"{section}:BaseUrl"] = cloud switch { "runpod" => fake.Root, "vast" => fake.Root + "/api", _ => ((FakeLambdaCloud)fake).Url };
        if (cloud == "vast")
        {
            settings["Providers:Vast:EndpointIntervalScale"] = "0.05";
        }

        if (cloud == "lambda")
        {
            settings["Providers:Lambda:SshKeyName"] = "ops";
            settings["Providers:Lambda:LaunchIntervalSeconds"] = "0.2";
        }

        return settings;
    }

    internal static async Task SetAsync(SiloProcess control, object body)
    {
        using var request = SiloFactory.AdminRequest(HttpMethod.Put, "/admin/fleet/settings");
        request.Content = JsonContent.Create(body);
        var answer = await control.Http.SendAsync(request);
        Assert.True(answer.IsSuccessStatusCode, $"settings: {(int)answer.StatusCode} {await answer.Content.ReadAsStringAsync()}");
    }

    private static async Task ActAsync(SiloProcess control, string action)
    {
        using var request = SiloFactory.AdminRequest(HttpMethod.Post, $"/admin/instances/i-001/{action}");
        var answer = await control.Http.SendAsync(request);
        Assert.True(answer.IsSuccessStatusCode, $"{action}: {(int)answer.StatusCode} {await answer.Content.ReadAsStringAsync()}");
    }

    internal static string Failures(SiloMachineHost host) => host.Failures.IsEmpty ? "" : "\nmachine failures:\n" + string.Join("\n", host.Failures);
}
