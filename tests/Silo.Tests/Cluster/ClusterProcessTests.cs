using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Actors.Silo.Tests.Cluster;

/// <summary>Several silo processes on one PostgreSQL, as in production.</summary>
public sealed class ClusterProcessTests
{
    [Fact]
    public async Task TwoThousandConcurrentIncrementsOfOneGrainOverTwoSilosAreAllCounted()
    {
        var database = TestDatabases.Create("two");
        using var a = await SiloProcess.StartAsync(Settings(database, "api,control"));
        using var b = await SiloProcess.StartAsync(Settings(database, "api"));
        var silos = new[] { a, b };
        var seen = new ConcurrentBag<long>();

        await Parallel.ForEachAsync(Enumerable.Range(0, 2000), new ParallelOptions { MaxDegreeOfParallelism = 48 }, async (i, ct) =>
        {
            using var request = SiloFactory.AdminRequest(HttpMethod.Post, "/admin/probe/counter-1/increment");
            using var response = await silos[i % 2].Http.SendAsync(request, ct);
            response.EnsureSuccessStatusCode();
            seen.Add((await response.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("count").GetInt64());
        });

        using var get = SiloFactory.AdminRequest(HttpMethod.Get, "/admin/probe/counter-1");
        var final = (await (await b.Http.SendAsync(get)).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("count").GetInt64();
        Assert.Equal(2000, final);
        Assert.Equal(Enumerable.Range(1, 2000).Select(i => (long)i), seen.Order()); // every turn saw the one before it
    }

    [Fact]
    public async Task KillingAGpuHostMidJobLosesNoJobAndReportsNoneTwice()
    {
        var database = TestDatabases.Create("kill");
        var blobs = TestBuckets.NewBucket(); // the silos share a bucket, not a folder
        using var receiver = new WebhookReceiver();
        using var control = await SiloProcess.StartAsync(Settings(database, "api,control", blobs));
        using var gpu1 = await SiloProcess.StartAsync(Gpu(Settings(database, "gpu", blobs), "gpu-1"));
        using var gpu2 = await SiloProcess.StartAsync(Gpu(Settings(database, "gpu", blobs), "gpu-2"));
        var api = new ApiClient(control.Http);
        var (tenant, key, _) = await api.CreateTenantAsync("pro");

        const int N = 48;
        var ids = new List<string>();
        for (var i = 0; i < N; i++)
        {
            var job = await api.SubmitOkAsync(key, new { model = "diffusion", parameters = new { steps = 80, seed = 10_000 + i }, webhookUrl = receiver.Url });
            ids.Add(job.GetProperty("id").GetString()!);
        }

        // Wait until gpu-1 is running jobs, then kill it mid-job.
        var running = new List<string>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (running.Count == 0)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), "gpu-1 never ran a job");
            foreach (var id in ids)
            {
                var job = await (await api.GetAsync(key, $"/v1/jobs/{id}")).Content.ReadFromJsonAsync<JsonElement>();
                if (job.GetProperty("status").GetString() == "running" && job.GetProperty("instance").GetString() == "gpu-1")
                {
                    running.Add(id);
                }
            }
        }

        gpu1.Kill();
        var killedAt = DateTimeOffset.UtcNow;

        var finished = new List<JsonElement>();
        foreach (var id in ids)
        {
            finished.Add(await api.WaitAsync(key, id, seconds: 180));
        }

        Assert.All(finished, j => Assert.Equal("succeeded", j.GetProperty("status").GetString()));
        // Jobs caught mid-run on gpu-1 ran again on gpu-2; whatever gpu-1 finished, it finished before it died.
        var rerun = running.Select(id => finished[ids.IndexOf(id)]).Where(j => j.GetProperty("instance").GetString() == "gpu-2").ToList();
        Assert.NotEmpty(rerun);
        Assert.All(rerun, j => Assert.True(j.GetProperty("attempts").GetInt32() >= 2));
        Assert.All(finished.Where(j => j.GetProperty("instance").GetString() == "gpu-1"),
            j => Assert.True(j.GetProperty("finishedAt").GetDateTimeOffset() < killedAt));

        clock.Restart();
        while (receiver.Received.Count < N && clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            await Task.Delay(100);
        }

        await Task.Delay(1500); // room for any duplicate to arrive
        var reported = receiver.Received.Select(r => JsonDocument.Parse(r.Body).RootElement.GetProperty("data").GetProperty("id").GetString()).ToList();
        Assert.Equal(ids.Order(), reported.Order()); // every job reported, none twice

        using var instances = SiloFactory.AdminRequest(HttpMethod.Get, "/admin/instances");
        var fleet = await (await control.Http.SendAsync(instances)).Content.ReadFromJsonAsync<JsonElement>();
        var dead = fleet.EnumerateArray().Single(i => i.GetProperty("id").GetString() == "gpu-1");
        Assert.Equal(("WARM", "down"), (dead.GetProperty("state").GetString(), dead.GetProperty("health").GetString()));

        // Money: every job charged exactly once at the model's full price, the reruns included
        // (a rerun that finds its own first run's result is not a cache hit): revenue = credits consumed.
        var (usage, ledger) = await TenantMoney.SettledAsync(api, key, control, tenant);
        var price = await TenantMoney.PriceAsync(api, key, "diffusion");
        Assert.Equal(5_000 - (N * price), usage.GetProperty("balance").GetInt64());
        Assert.All(finished, j => Assert.False(j.GetProperty("cacheHit").GetBoolean(), j.ToString()));
        var settled = ledger.GetProperty("entries").EnumerateArray().Where(e => e.GetProperty("kind").GetString() == "settle").Select(e => e.GetProperty("jobId").GetString()).ToList();
        Assert.Equal(ids.Order(), settled.Order());
    }

    [Fact]
    public async Task KillingTheSiloOfABusyTenantDuringABurstLosesNoMoneyAndEveryAcceptedSubmissionIsAJob()
    {
        var database = TestDatabases.Create("tenantkill");
        var blobs = TestBuckets.NewBucket(); // the silos share a bucket, not a folder
        using var a = await SiloProcess.StartAsync(Billing(Gpu(Settings(database, "api,control,gpu", blobs), "gpu-a")));
        // Both silos run the control role: whichever dies, the other recovers its leases.
        using var b = await SiloProcess.StartAsync(Billing(Gpu(Settings(database, "api,control,gpu", blobs), "gpu-b")));
        var silos = new[] { a, b };
        var (tenant, key, _) = await new ApiClient(b.Http).CreateTenantAsync("pro"); // activated on b, where it was called
        var before = (await (await new ApiClient(a.Http).GetAsync(key, "/v1/usage")).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("balance").GetInt64();
        var host = await TenantSiloAsync(a, silos);
        var survivor = silos.Single(s => s != host);

        // A burst of admissions from both silos' APIs; the tenant's silo dies a third of the way in.
        const int N = 90;
        var accepted = new ConcurrentDictionary<int, string>();
        var refused = new ConcurrentBag<string>();
        var sent = 0;
        var killed = false;
        await Parallel.ForEachAsync(Enumerable.Range(0, N), new ParallelOptions { MaxDegreeOfParallelism = 12 }, async (i, ct) =>
        {
            if (Interlocked.Increment(ref sent) == N / 3)
            {
                host.Kill();
                Volatile.Write(ref killed, true);
            }

            // A client whose request failed (its silo died under it, or the cluster said 503) sends
            // it again with the same Idempotency-Key: it gets the job that request made, if any.
            for (var attempt = 0; attempt < 40; attempt++)
            {
                var via = Volatile.Read(ref killed) ? survivor : silos[i % 2];
                using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/jobs") { Content = JsonContent.Create(new { model = "identity", input = Convert.ToBase64String(new byte[64]), contentType = "application/octet-stream", parameters = new { shape = new[] { 1, 1, 16 }, seed = 40_000 + i } }) };
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
                request.Headers.Add("Idempotency-Key", $"burst-{i}");
                try
                {
                    using var response = await via.Http.SendAsync(request, ct);
                    var body = await response.Content.ReadAsStringAsync(ct);
                    Assert.True((int)response.StatusCode < 500 || response.StatusCode == System.Net.HttpStatusCode.ServiceUnavailable, $"submission {i}: {(int)response.StatusCode} {body}");
                    if (response.IsSuccessStatusCode)
                    {
                        accepted[i] = JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
                        return;
                    }

                    if (response.StatusCode != System.Net.HttpStatusCode.ServiceUnavailable)
                    {
                        refused.Add($"{(int)response.StatusCode} {body}"); // a definite no (e.g. a lapsed key: never charged)
                        return;
                    }
                }
                catch (HttpRequestException)
                {
                    Volatile.Write(ref killed, true); // sent to the silo as it died
                }

                await Task.Delay(500, ct);
            }

            refused.Add($"submission {i}: no answer after 40 tries");
        });

        Assert.DoesNotContain(refused, r => r.Contains("no answer", StringComparison.Ordinal));
        Assert.All(refused, r => Assert.StartsWith("409", r, StringComparison.Ordinal)); // only a lapsed key may be refused
        Assert.True(accepted.Count >= N / 3, $"only {accepted.Count} of {N} accepted ({string.Join(",", refused)})");
        var api = new ApiClient(survivor.Http);
        var finished = new List<JsonElement>();
        foreach (var id in accepted.Values)
        {
            finished.Add(await api.WaitAsync(key, id, seconds: 180)); // every 2xx is a job, and it runs
        }

        Assert.All(finished, j => Assert.Equal("succeeded", j.GetProperty("status").GetString()));

        // Money: reservations all closed (the ones whose submission died with the silo released by
        // the tenant's reminder), each accepted job charged once, the ledger equal to the balances.
        var (usage, ledger) = await TenantMoney.SettledAsync(api, key, survivor, tenant);
        var entries = ledger.GetProperty("entries").EnumerateArray().ToList();
        var settled = entries.Where(e => e.GetProperty("kind").GetString() == "settle").Select(e => e.GetProperty("jobId").GetString()).ToList();
        Assert.Equal(accepted.Values.Order(), settled.Order()); // each accepted job charged once, nothing else charged
        var reserved = entries.Where(e => e.GetProperty("kind").GetString() == "reserve").Select(e => e.GetProperty("jobId").GetString()).ToList();
        Assert.Equal(reserved.Count, reserved.Distinct().Count());
        var released = entries.Where(e => e.GetProperty("kind").GetString() == "release").Select(e => e.GetProperty("jobId").GetString()).ToList();
        Assert.Equal(reserved.Order(), settled.Concat(released).Order()); // every reservation closed exactly once
        Assert.True(usage.GetProperty("balance").GetInt64() < before);

        // Revenue equals the credits the jobs consumed, exactly: every input is distinct, so no job
        // is a cache hit (a job re-run after the crash that finds its own earlier result is not
        // one), and each is charged the model's full price once.
        Assert.All(finished, j => Assert.False(j.GetProperty("cacheHit").GetBoolean(), j.ToString()));
        var price = await TenantMoney.PriceAsync(api, key, "identity");
        Assert.Equal(accepted.Count * price, before - usage.GetProperty("balance").GetInt64() + usage.GetProperty("overageThisPeriod").GetInt64());
    }

    [Fact]
    public async Task ARedisRestartDuringLoadLosesNoAcceptedJobAndTheClusterRecoversByItself()
    {
        var database = TestDatabases.Create("redis");
        var blobs = TestBuckets.NewBucket(); // the silos share a bucket, not a folder
        var port = Actors.Silo.Cluster.SiloIdentity.FreePort();
        var redisData = Directory.CreateTempSubdirectory("actors-redis-").FullName;
        var redis = StartRedis(port, redisData);
        try
        {
            Dictionary<string, string> OnOurRedis(Dictionary<string, string> settings)
            {
                settings["Cluster:Redis"] = $"127.0.0.1:{port}";
                return settings;
            }

            using var a = await SiloProcess.StartAsync(OnOurRedis(Gpu(Settings(database, "api,control,gpu", blobs), "gpu-a")));
            using var b = await SiloProcess.StartAsync(OnOurRedis(Gpu(Settings(database, "gpu", blobs), "gpu-b")));
            var api = new ApiClient(a.Http);
            var (_, key, _) = await api.CreateTenantAsync("enterprise");

            // Load: a job every 100 ms through the API; Redis is killed (SIGKILL) after 15 of them and
            // restarted 2 s later from its append-only file, as a Redis kept for membership is run.
            var accepted = new ConcurrentBag<string>();
            var answers = new ConcurrentBag<int>();
            var restartedAt = TimeSpan.Zero;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            for (var i = 0; i < 60; i++)
            {
                if (i == 15)
                {
                    redis.Kill();
                    await redis.WaitForExitAsync();
                    await Task.Delay(2000);
                    redis = StartRedis(port, redisData);
                    restartedAt = clock.Elapsed;
                }

                using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/jobs") { Content = JsonContent.Create(new { model = "identity", input = Convert.ToBase64String(new byte[64]), contentType = "application/octet-stream", parameters = new { shape = new[] { 1, 1, 16 }, seed = 50_000 + i } }) };
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
                using var response = await a.Http.SendAsync(request);
                answers.Add((int)response.StatusCode);
                Assert.True((int)response.StatusCode < 500 || (int)response.StatusCode == 503, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
                if (response.IsSuccessStatusCode)
                {
                    accepted.Add((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!);
                }

                await Task.Delay(100);
            }

            foreach (var id in accepted)
            {
                Assert.Equal("succeeded", (await api.WaitAsync(key, id, seconds: 120)).GetProperty("status").GetString());
            }

            // Recovered: a new silo can join through the restarted Redis and the cluster sees all three.
            using var c = await SiloProcess.StartAsync(OnOurRedis(Settings(database, "api", blobs)));
            var joined = clock.Elapsed;
            var alive = 0;
            while (clock.Elapsed - joined < TimeSpan.FromSeconds(60))
            {
                using var list = SiloFactory.AdminRequest(HttpMethod.Get, "/admin/silos");
                alive = (await (await c.Http.SendAsync(list)).Content.ReadFromJsonAsync<JsonElement>()).EnumerateArray().Count(m => m.GetProperty("status").GetString() == "alive");
                if (alive == 3)
                {
                    break;
                }

                await Task.Delay(250);
            }

            Assert.True(alive == 3, $"after the Redis restart the new silo sees {alive} alive silos:\n{a.Output[^Math.Min(4000, a.Output.Length)..]}");
            var recovered = clock.Elapsed - restartedAt;
            var (c2, c3) = (new ApiClient(c.Http), accepted.Count);
            Assert.Equal("succeeded", (await c2.WaitAsync(key, (await c2.SubmitOkAsync(key, new { model = "identity", input = Convert.ToBase64String(new byte[64]), contentType = "application/octet-stream", parameters = new { shape = new[] { 1, 1, 16 }, seed = 59_999 } })).GetProperty("id").GetString()!)).GetProperty("status").GetString());
            TestContext.Current.TestOutputHelper?.WriteLine($"redis restart: {c3} of 60 accepted, answers {string.Join(",", answers.GroupBy(x => x).Select(g => $"{g.Key}x{g.Count()}"))}; a new silo joined and saw 3 alive {recovered.TotalSeconds:0.0} s after Redis came back");
        }
        finally
        {
            redis.Kill();
            redis.Dispose();
        }
    }

    /// <summary>A Redis on <paramref name="port"/> keeping an append-only file (fsync on every write)
    /// in <paramref name="dir"/>, so a restart finds the membership it had.</summary>
    private static System.Diagnostics.Process StartRedis(int port, string dir)
    {
        var start = new System.Diagnostics.ProcessStartInfo("redis-server")
        {
            ArgumentList = { "--bind", "127.0.0.1", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--save", "", "--appendonly", "yes", "--appendfsync", "always", "--dir", dir },
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        var process = System.Diagnostics.Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        for (var i = 0; i < 100; i++)
        {
            try
            {
                using var probe = new System.Net.Sockets.TcpClient("127.0.0.1", port);
                return process;
            }
            catch (System.Net.Sockets.SocketException)
            {
                Thread.Sleep(50);
            }
        }

        throw new InvalidOperationException($"redis-server did not listen on {port}");
    }

    /// <summary>The silo process whose Orleans silo holds the tenant grain (from the Orleans
    /// Dashboard's counters and /admin/silos).</summary>
    private static async Task<SiloProcess> TenantSiloAsync(SiloProcess any, SiloProcess[] silos)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            using var counters = SiloFactory.AdminRequest(HttpMethod.Get, "/orleans/DashboardCounters");
            var stats = (await (await any.Http.SendAsync(counters)).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("simpleGrainStats").EnumerateArray()
                .Where(s => s.GetProperty("grainType").GetString()!.EndsWith(".TenantGrain", StringComparison.Ordinal) && s.GetProperty("activationCount").GetInt32() > 0)
                .Select(s => s.GetProperty("siloAddress").GetString()).ToList();
            using var list = SiloFactory.AdminRequest(HttpMethod.Get, "/admin/silos");
            var members = (await (await any.Http.SendAsync(list)).Content.ReadFromJsonAsync<JsonElement>()).EnumerateArray().ToList();
            if (stats.Count == 1)
            {
                var pid = members.Single(m => m.GetProperty("siloId").GetString() == stats[0]).GetProperty("processId").GetInt32();
                return silos.Single(s => s.ProcessId == pid);
            }

            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"the tenant grain's silo is not known: {string.Join(",", stats)}");
            await Task.Delay(500);
        }
    }

    /// <summary>A silo of a cluster on <paramref name="database"/> (and a shared bucket), failures found fast.</summary>
    internal static Dictionary<string, string> Settings(string database, string roles, string? blobs = null)
    {
        var settings = new Dictionary<string, string>
        {
            ["Cluster:Store"] = "postgres",
            ["Cluster:ConnectionString"] = database,
            ["Cluster:Roles"] = roles,
            ["Cluster:DataPath"] = Directory.CreateTempSubdirectory("actors-silo-").FullName,
            ["Cluster:ProbeSeconds"] = "0.5",
            ["Cluster:MissedProbes"] = "3",
            ["Cluster:LeaseSeconds"] = "60", // recovery must come from the death, not the lease
            ["Cluster:PollMilliseconds"] = "50",
        };
        foreach (var (key, value) in TestDatabases.ClusterOn(database))
        {
            settings[key] = value;
        }

        return blobs is null ? settings : settings.On(blobs);
    }

    /// <summary>… with the gpu role's instance and one inference thread.</summary>
    internal static Dictionary<string, string> Gpu(Dictionary<string, string> settings, string instance)
    {
        settings["Cluster:InstanceId"] = instance;
        settings["Cluster:MaxInFlightPerModel"] = "4";
        settings["Inference:Threads"] = "1";
        return settings;
    }

    /// <summary>… whose tenants check their reservations every second: one whose submission or
    /// settlement died with a silo is closed soon.</summary>
    internal static Dictionary<string, string> Billing(Dictionary<string, string> settings)
    {
        settings["Billing:ReservationCheckSeconds"] = "1";
        settings["Billing:ReservationGraceSeconds"] = "2";
        return settings;
    }

}
