using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Actors.Silo.Tests.Cluster;
using static Actors.Silo.Tests.Fleet.FleetProbe;

namespace Actors.Silo.Tests.Fleet;

/// <summary>The autoscaler on real GPU-host processes (the local provider), with the seed policy's
/// timings shortened: it starts one HOT instance, a burst scales it to two, quiet brings it back
/// to one, and a killed instance is replaced while its jobs finish.</summary>
public sealed class LocalPoolTests
{
    private static Dictionary<string, string> ControlSilo(string database, string bucket) => FleetProbe.ControlSilo(database, bucket, "local", "local");

    [Fact]
    public async Task BurstScalesOutToTwoHotHostsQuietScalesInAndAKilledInstanceIsReplaced()
    {
        var settings = ControlSilo(TestDatabases.Create("pool"), TestBuckets.NewBucket());
        settings["Cluster:LeaseSeconds"] = "30";
        settings["Cluster:MaxInFlightPerModel"] = "2";
        settings["Cluster:DrainSeconds"] = "10";
        settings["Fleet:QuietMinutes"] = "0.1";
        using var control = await SiloProcess.StartAsync(settings);
        var api = new ApiClient(control.Http);
        var (_, key, _) = await api.CreateTenantAsync("pro");

        // The pool starts one instance: rented (a process comes up WARM), then resumed (models load).
        var fleet = await WaitForAsync(control, f => Hot(f).Count == 1, "one HOT instance", 120);
        var first = Hot(fleet).Single();
        Assert.Equal("i-001", first.GetProperty("id").GetString());
        Assert.Equal("local", first.GetProperty("provider").GetString());
        var measured = first.GetProperty("measuredSeconds");
        Assert.True(measured.GetProperty("rent").GetDouble() > 0.2, "rent time is measured");
        Assert.True(measured.GetProperty("resume").GetDouble() > 0, "resume time is measured");

        // A burst: the queue passes 30 with every instance HOT → rent a second (seed rule).
        var burst = await SubmitAsync(api, key, 90, seed: 1);
        fleet = await WaitForAsync(control, f => Hot(f).Count == 2, "two HOT instances", 120);
        Assert.Contains(fleet.GetProperty("pool").GetProperty("recent").EnumerateArray(),
            e => e.GetProperty("kind").GetString() == "rent" && e.GetProperty("reason").GetString()!.Contains("> 30 and all instances HOT", StringComparison.Ordinal));
        var done = await FinishAsync(api, key, burst);
        Assert.Contains(done, j => j.GetProperty("instance").GetString() == "i-002"); // the new instance took jobs

        // Quiet (queue < 3 for the shortened 6 s): the non-primary is stopped, back to one HOT.
        fleet = await WaitForAsync(control, f => Hot(f).Count == 1 && State(f, "i-002") == "WARM", "scale back to one HOT", 90);
        Assert.Contains(fleet.GetProperty("pool").GetProperty("recent").EnumerateArray(),
            e => e.GetProperty("kind").GetString() == "stop" && e.GetProperty("instanceId").GetString() == "i-002");
        Assert.Equal("i-001", Hot(fleet).Single().GetProperty("id").GetString());
        Assert.True(await HostAsync(control, "i-002") is { } warmHost && warmHost.GetProperty("phase").GetString() == "warm",
            "WARM is a live process without models");
        var pool = fleet.GetProperty("pool");
        Assert.True(pool.GetProperty("serviceMeasuredJobs").GetInt64() >= 20, "the burst's jobs measured the service time");
        Assert.True(pool.GetProperty("serviceSecondsPerJob").GetDouble() is > 0 and < 60, $"service time {pool.GetProperty("serviceSecondsPerJob")}");

        // Kill -9 the HOT instance under load: it is marked down, a replacement comes up, every job finishes.
        var more = await SubmitAsync(api, key, 24, seed: 500);
        var victim = await HostAsync(control, "i-001") ?? throw new InvalidOperationException("i-001 has no live host");
        var clock = Stopwatch.StartNew();
        while (victim.GetProperty("holding").GetInt32() == 0 && clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(100);
            victim = await HostAsync(control, "i-001") ?? victim;
        }

        using (var process = Process.GetProcessById(victim.GetProperty("processId").GetInt32()))
        {
            process.Kill();
        }

        fleet = await WaitForAsync(control, f => State(f, "i-001") == "COLD" && Hot(f).Count == 1, "the killed instance replaced", 120);
        var dead = Instance(fleet, "i-001");
        Assert.Equal("down", dead.GetProperty("health").GetString());
        Assert.Contains("exited", dead.GetProperty("healthReason").GetString(), StringComparison.Ordinal);
        Assert.NotEqual("i-001", Hot(fleet).Single().GetProperty("id").GetString());
        var after = await FinishAsync(api, key, more);
        Assert.All(after, j => Assert.Equal("succeeded", j.GetProperty("status").GetString()));
    }

    [Fact]
    public async Task AnInstanceWhoseControlSiloCrashedIsAdoptedByTheNextNotLostAndItCanBeReleased()
    {
        var database = TestDatabases.Create("adopt");
        var blobs = TestBuckets.NewBucket();
        Dictionary<string, string> Settings() => ControlSilo(database, blobs);

        int pid;
        using (var first = await SiloProcess.StartAsync(Settings()))
        {
            await WaitForAsync(first, f => Hot(f).Count == 1, "one HOT instance", 120);
            pid = (await HostAsync(first, "i-001") ?? throw new InvalidOperationException("i-001 has no live host")).GetProperty("processId").GetInt32();
            first.Kill(tree: false); // the control silo crashes; its GPU-host process lives on
        }

        try
        {
            Assert.False(Ended(pid));
            using var second = await SiloProcess.StartAsync(Settings());
            var api = new ApiClient(second.Http);
            var (_, key, _) = await api.CreateTenantAsync("pro");

            // The new control silo takes the process over: i-001 stays HOT and healthy, nothing else is rented, it runs jobs.
            var fleet = await WaitForAsync(second, f => f.GetProperty("pool").GetProperty("lastTick").ValueKind == JsonValueKind.String, "a pool tick", 60);
            var done = await FinishAsync(api, key, await SubmitAsync(api, key, 3, seed: 900));
            Assert.All(done, j => Assert.Equal("i-001", j.GetProperty("instance").GetString()));
            fleet = await WaitForAsync(second, f => Hot(f).Count == 1, "i-001 still HOT", 30);
            var adopted = Instance(fleet, "i-001");
            Assert.Equal(("ok", "local"), (adopted.GetProperty("health").GetString(), adopted.GetProperty("provider").GetString()));
            Assert.Single(fleet.GetProperty("instances").EnumerateArray(), i => i.GetProperty("state").GetString() != "COLD");
            Assert.Contains("adopted GPU-host process " + pid, second.Output, StringComparison.Ordinal);

            // And it is ours to end: stop (HOT → WARM), release (WARM → COLD): the process exits.
            using (var settings = SiloFactory.AdminRequest(HttpMethod.Put, "/admin/fleet/settings"))
            {
                settings.Content = JsonContent.Create(new { autoscale = false });
                (await second.Http.SendAsync(settings)).EnsureSuccessStatusCode();
            }

            foreach (var (action, state) in new[] { ("stop", "WARM"), ("release", "COLD") })
            {
                using var act = SiloFactory.AdminRequest(HttpMethod.Post, $"/admin/instances/i-001/{action}");
                var answer = await second.Http.SendAsync(act);
                Assert.True(answer.IsSuccessStatusCode, $"{action}: {(int)answer.StatusCode} {await answer.Content.ReadAsStringAsync()}");
                await WaitForAsync(second, f => State(f, "i-001") == state, $"i-001 {state}", 90);
            }

            var clock = Stopwatch.StartNew();
            while (!Ended(pid) && clock.Elapsed < TimeSpan.FromSeconds(45))
            {
                await Task.Delay(200);
            }

            Assert.True(Ended(pid), $"process {pid} still running after release");
        }
        finally
        {
            if (!Ended(pid))
            {
                using var orphan = Process.GetProcessById(pid);
                orphan.Kill();
            }
        }
    }

    /// <summary>No such process, or one that ended and nobody has reaped (not our child: the
    /// silo that started it is gone).</summary>
    private static bool Ended(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var state = stat.AsSpan(stat.LastIndexOf(')') + 1).TrimStart();
            return state.Length == 0 || state[0] is 'Z' or 'X';
        }
        catch (IOException)
        {
            return true;
        }
    }
}
