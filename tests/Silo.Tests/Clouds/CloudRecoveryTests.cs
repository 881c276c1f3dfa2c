using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Actors.Fleet.Tests.Providers;
using Actors.Silo.Tests.Cluster;
using static Actors.Silo.Tests.Clouds.CloudCycleTests;
using static Actors.Silo.Tests.Fleet.FleetProbe;

namespace Actors.Silo.Tests.Clouds;

/// <summary>What goes wrong with rented machines, end to end through RunPod's fake with real
/// GPU-host processes: a spot machine preempted mid-run (its silo killed, no drain) is found lost,
/// terminated, its jobs go back on the queue, and the pool rents a replacement — on demand, since
/// spot is gone — and every accepted job runs to success and is charged exactly once; a control
/// silo that restarts keeps (adopts) the machine its instance holds and terminates an orphan of
/// ours, never a machine without our prefix.</summary>
public sealed class CloudRecoveryTests(ITestOutputHelper output)
{
    private const string Gpu = "NVIDIA GeForce RTX 4090";

    [Fact]
    public async Task ASpotPreemptionMidRunLosesNoJobChargesNoneTwiceAndFallsBackToOnDemand()
    {
        using var fake = new FakeRunPod { BootDelay = TimeSpan.FromSeconds(1) };
        using var host = new SiloMachineHost();
        fake.Host = host;
        var settings = CloudSilo("runpod", Gpu, fake, "spot");
        settings["Providers:RunPod:Spot"] = "true";
        settings["Fleet:Offers:0:Provider"] = "runpod-spot";
        settings["Fleet:Offers:0:GpuType"] = Gpu;
        settings["Fleet:Offers:1:Provider"] = "runpod";
        settings["Fleet:Offers:1:GpuType"] = Gpu;
        settings["Fleet:MaxPerHourUsd"] = "1.0"; // one 4090 at a time, spot or not
        settings["Cluster:LeaseSeconds"] = "30";
        using var control = await SiloProcess.StartAsync(settings);
        var api = new ApiClient(control.Http);
        var (tenant, key, _) = await api.CreateTenantAsync("pro");

        var fleet = await WaitForAsync(control, f => Hot(f).Count == 1, $"one HOT spot instance{Failures(host)}", 180);
        Assert.Equal("runpod-spot", Hot(fleet).Single().GetProperty("provider").GetString());
        var spot = fake.Machines.Single();
        Assert.True(spot.Spot);

        // Jobs running on the spot machine when the market takes it back (and spot is gone for now).
        var jobs = await SubmitAsync(api, key, 12, seed: 300);
        var clock = Stopwatch.StartNew();
        while ((await HostAsync(control, "i-001"))?.GetProperty("holding").GetInt32() is not > 0 && clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            await Task.Delay(100);
        }

        fake.NoSpotCapacity = true;
        fake.Preempt(spot.Id);
        var preemptedAt = Stopwatch.StartNew();
        fleet = await WaitForAsync(control, f => State(f, "i-001") == "COLD", "the preempted instance lost", 60);
        var noticed = preemptedAt.Elapsed;
        Assert.Contains("spot preemption", Instance(fleet, "i-001").GetProperty("healthReason").GetString(), StringComparison.Ordinal);
        Assert.Equal(FakePhase.Gone, fake.Machines.Single(m => m.Id == spot.Id).Phase); // a stopped spot pod still bills its volume: terminated

        fleet = await WaitForAsync(control, f => Hot(f).Count == 1, $"a replacement HOT{Failures(host)}", 180);
        var replacement = Hot(fleet).Single();
        Assert.Equal("runpod", replacement.GetProperty("provider").GetString()); // spot gone: on demand
        var recent = fleet.GetProperty("pool").GetProperty("recent").EnumerateArray().ToList();
        Assert.Contains(recent, e => e.GetProperty("kind").GetString() == "rent" && e.GetProperty("reason").GetString()!.Contains("fallback after: runpod-spot", StringComparison.Ordinal));
        Assert.Contains(recent, e => e.GetProperty("kind").GetString() == "offer" && e.GetProperty("reason").GetString()!.Contains("machine lost", StringComparison.Ordinal));
        Assert.True(fleet.GetProperty("pool").GetProperty("backingOff").TryGetProperty("runpod-spot", out _), fleet.GetProperty("pool").ToString());

        // Every accepted job ran to success, once; every one charged once.
        var done = await FinishAsync(api, key, jobs);
        var outcomes = string.Join("\n", done.Select(j => $"{j.GetProperty("id")} {j.GetProperty("status")} on {j.GetProperty("instance")}"));
        using var ledgerRequest = SiloFactory.AdminRequest(HttpMethod.Get, $"/admin/tenants/{tenant}/ledger?limit=1000");
        var ledger = await (await control.Http.SendAsync(ledgerRequest)).Content.ReadFromJsonAsync<JsonElement>();
        var settled = ledger.GetProperty("entries").EnumerateArray().Where(e => e.GetProperty("kind").GetString() == "settle").Select(e => e.GetProperty("jobId").GetString()!).ToList();
        Assert.True(ledger.GetProperty("consistent").GetBoolean(), $"{outcomes}\n{ledger}");
        Assert.Equal(settled.Count, settled.Distinct().Count());
        Assert.Equal(jobs.Order(StringComparer.Ordinal), settled.Order(StringComparer.Ordinal));
        Assert.Contains(done, j => j.GetProperty("instance").GetString() == replacement.GetProperty("id").GetString()); // the lost jobs ran on the replacement
        Assert.Empty(fake.Refused);
        output.WriteLine($"preemption noticed {noticed.TotalSeconds:0.0} s after the cloud showed it; {done.Count} jobs succeeded, {settled.Count} charges\n{outcomes}");
    }

    [Fact]
    public async Task AMachineThatNeverJoinsIsTerminatedCountedAsAFailedRentAndThePoolMovesToTheNextCloud()
    {
        using var vast = new FakeVast(0.05) { BootDelay = TimeSpan.FromSeconds(1), NeverBoot = true };
        using var runpod = new FakeRunPod { BootDelay = TimeSpan.FromSeconds(1) };
        using var host = new SiloMachineHost();
        runpod.Host = host;
        vast.Host = host;
        var settings = CloudSilo("runpod", Gpu, runpod, "fallback");
        foreach (var (key, value) in CloudSilo("vast", "RTX 4090", vast, "unused").Where(kv => kv.Key.StartsWith("Providers:Vast", StringComparison.Ordinal)))
        {
            settings[key] = value;
        }

        settings["Providers:Vast:ReadySeconds"] = "2"; // ETA 2 s: released 2 × 2 + 30 s after the rent
        settings["Fleet:Offers:0:Provider"] = "vast";
        settings["Fleet:Offers:0:GpuType"] = "RTX 4090";
        settings["Fleet:Offers:1:Provider"] = "runpod";
        settings["Fleet:Offers:1:GpuType"] = Gpu;
        using var control = await SiloProcess.StartAsync(settings);

        // Vast first (cheaper): its machine stays "loading" forever; at the time-out it is destroyed and the rent counted failed.
        var fleet = await WaitForAsync(control, f => Hot(f).Count == 1, $"a HOT instance after the failed rent{Failures(host)}", 150);
        Assert.Equal("runpod", Hot(fleet).Single().GetProperty("provider").GetString());
        var failed = Instance(fleet, "i-001");
        Assert.Equal(("COLD", "vast"), (failed.GetProperty("state").GetString(), failed.GetProperty("provider").GetString()));
        Assert.Equal("down", failed.GetProperty("health").GetString());
        Assert.Contains("launch timed out", failed.GetProperty("healthReason").GetString(), StringComparison.Ordinal);
        Assert.All(vast.Machines, m => Assert.Equal(FakePhase.Gone, m.Phase)); // never left billing
        var recent = fleet.GetProperty("pool").GetProperty("recent").EnumerateArray().ToList();
        Assert.Contains(recent, e => e.GetProperty("kind").GetString() == "offer" && e.GetProperty("reason").GetString() == "vast: rent failed");
        Assert.Contains(recent, e => e.GetProperty("kind").GetString() == "rent" && e.GetProperty("reason").GetString()!.Contains("fallback after: vast/RTX 4090: backing off", StringComparison.Ordinal));
        Assert.Empty(vast.Refused);
        Assert.Empty(runpod.Refused);
    }

    [Fact]
    public async Task AControlSiloRestartAdoptsWhatItsInstancesHoldAndTerminatesOnlyOurOrphans()
    {
        using var fake = new FakeRunPod { BootDelay = TimeSpan.FromSeconds(1) };
        using var host = new SiloMachineHost();
        fake.Host = host;
        var settings = CloudSilo("runpod", Gpu, fake, "reconcile");
        using (var first = await SiloProcess.StartAsync(settings))
        {
            await WaitForAsync(first, f => Hot(f).Count == 1, $"one HOT instance{Failures(host)}", 180);
            first.Kill(tree: false); // the control silo dies; the machine and its silo live on
        }

        // While it was down: a machine of ours that no instance holds (a launch whose answer was lost), and someone else's.
        var orphan = fake.AddForeign("actors-e2e-i-099", Gpu);
        var foreign = fake.AddForeign("training-run-of-another-team", Gpu);
        var clock = Stopwatch.StartNew();
        using var second = await SiloProcess.StartAsync(settings);
        var fleet = await WaitForAsync(second, f => f.GetProperty("cloudOrphansTerminated").GetArrayLength() > 0, "a reconciliation that ended the orphan", 90);
        Assert.StartsWith("actors-e2e-i-099", Assert.Single(fleet.GetProperty("cloudOrphansTerminated").EnumerateArray()).GetProperty("machine").GetString(), StringComparison.Ordinal);
        var reconciled = clock.Elapsed;

        var machines = fake.Machines;
        Assert.Equal(FakePhase.Gone, machines.Single(m => m.Id == orphan).Phase);
        Assert.Equal(FakePhase.Running, machines.Single(m => m.Id == foreign).Phase);
        Assert.Equal(FakePhase.Running, machines.Single(m => m.Name == "actors-e2e-i-001").Phase);
        Assert.Equal(3, machines.Count); // nothing rented twice
        fleet = await WaitForAsync(second, f => Hot(f).Count == 1, "i-001 still HOT", 30);
        Assert.Equal("i-001", Hot(fleet).Single().GetProperty("id").GetString());

        var api = new ApiClient(second.Http);
        var (_, key, _) = await api.CreateTenantAsync("pro");
        Assert.All(await FinishAsync(api, key, await SubmitAsync(api, key, 2, seed: 700)), j => Assert.Equal("i-001", j.GetProperty("instance").GetString()));
        Assert.Empty(fake.Refused);
        output.WriteLine($"control silo restart: orphan terminated and i-001 kept {reconciled.TotalSeconds:0.0} s after the new silo started (reconcile every 2 s)");
    }
}
