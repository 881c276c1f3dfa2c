using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Actors.Silo.Tests.Cluster;

namespace Actors.Silo.Tests.Observability;

/// <summary>A real Prometheus (Debian's package) scrapes a real silo process; promtool checks
/// the exposition.</summary>
public sealed class PrometheusTests
{
    [Fact]
    public async Task PrometheusScrapesQueueDepthAndInstanceStatesAndPromtoolAcceptsTheText()
    {
        using var silo = await SiloProcess.StartEmbeddedAsync("metrics", ("Cluster:InstanceId", "gpu-metrics"));

        // One job through, so the job series exist.
        using var create = new HttpRequestMessage(HttpMethod.Post, "/admin/tenants") { Content = JsonContent.Create(new { name = "m", tier = "pro" }) };
        create.Headers.Authorization = new AuthenticationHeaderValue("Bearer", SiloFactory.AdminKey);
        using var created = await silo.Http.SendAsync(create);
        created.EnsureSuccessStatusCode();
        var key = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("apiKey").GetString()!;
        using var submit = new HttpRequestMessage(HttpMethod.Post, "/v1/jobs") { Content = JsonContent.Create(ApiClient.Identity([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16])) };
        submit.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        submit.Headers.Add("Prefer", "wait=30");
        using var job = await silo.Http.SendAsync(submit);
        Assert.True(job.IsSuccessStatusCode, await job.Content.ReadAsStringAsync());

        // The exposition itself.
        await Task.Delay(2500); // one gauge refresh
        var text = await silo.Http.GetStringAsync("/metrics");
        await File.WriteAllTextAsync(Path.Combine(Path.GetTempPath(), "actors-metrics-last.txt"), text);
        Assert.Contains("actors_jobs_submitted_total{model=\"identity\",tier=\"pro\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("actors_jobs_finished_total{model=\"identity\",outcome=\"succeeded\",tier=\"pro\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("actors_queue_depth{model=\"identity\",tier=\"free\"} 0", text, StringComparison.Ordinal);
        Assert.Contains("actors_instances{gpu_type=", text, StringComparison.Ordinal);
        Assert.Contains("actors_queue_wait_seconds_bucket{", text, StringComparison.Ordinal);
        Assert.Contains("http_server_request_duration_seconds_count{", text, StringComparison.Ordinal);
        Assert.Contains("actors_instance_health{health=\"ok\",instance=\"gpu-metrics\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("dotnet_process_cpu_time_seconds_total{", text, StringComparison.Ordinal);
        Assert.Contains("actors_host_memory_available_bytes ", text, StringComparison.Ordinal);
        Assert.Contains("actors_grain_turn_duration_seconds_count{grain_type=\"IJobGrain\"}", text, StringComparison.Ordinal);
        Assert.DoesNotContain("actors_gpu_utilization_ratio", text, StringComparison.Ordinal); // no NVML here: absent, not zero
        Assert.DoesNotContain("actors_model_cuda_graph", text, StringComparison.Ordinal); // no model with CUDA graphs on a CPU: absent
        Assert.Contains("actors_credits_consumed_total{model=\"identity\",plan=\"pro\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("actors_batch_size_bucket{model=\"identity\",le=\"1\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("actors_batch_duration_seconds_count{model=\"identity\",outcome=\"ok\"} 1", text, StringComparison.Ordinal);
        var (code, output) = await RunAsync("promtool", ["check", "metrics"], text);
        Assert.True(code == 0, $"promtool check metrics: {output}");

        // A real Prometheus scraping it.
        var dir = Directory.CreateTempSubdirectory("actors-prom-").FullName;
        var target = new Uri(silo.Url).Authority;
        await File.WriteAllTextAsync(Path.Combine(dir, "prometheus.yml"), $"""
            global:
              scrape_interval: 1s
            scrape_configs:
              - job_name: actors
                static_configs:
                  - targets: ["{target}"]
            """);
        var port = Actors.Silo.Cluster.SiloIdentity.FreePort();
        var start = new ProcessStartInfo("prometheus")
        {
            ArgumentList = { $"--config.file={Path.Combine(dir, "prometheus.yml")}", $"--storage.tsdb.path={Path.Combine(dir, "data")}", $"--web.listen-address=127.0.0.1:{port}" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var prometheus = Process.Start(start)!;
        var log = new System.Text.StringBuilder();
        prometheus.ErrorDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        prometheus.OutputDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        prometheus.BeginErrorReadLine();
        prometheus.BeginOutputReadLine();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            var depth = await QueryUntilAsync(http, "actors_queue_depth{model=\"identity\"}");
            Assert.Equal(4, depth.GetArrayLength()); // one series per tier
            var instances = await QueryUntilAsync(http, "sum by (state) (actors_instances)");
            Assert.Contains(instances.EnumerateArray(), r => r.GetProperty("metric").GetProperty("state").GetString() is "hot" or "serving");

            // Every query of the Grafana dashboard is valid PromQL for this server.
            var dashboard = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(TestPaths.Repo, "deploy", "grafana", "dashboard.json"))).RootElement;
            var queries = dashboard.GetProperty("panels").EnumerateArray().SelectMany(p => p.GetProperty("targets").EnumerateArray()).Select(t => t.GetProperty("expr").GetString()!).ToList();
            Assert.True(queries.Count >= 12);
            foreach (var query in queries)
            {
                using var answer = await http.GetAsync($"/api/v1/query?query={Uri.EscapeDataString(query)}");
                Assert.True(answer.IsSuccessStatusCode, $"{query}: {await answer.Content.ReadAsStringAsync()}");
            }
        }
        catch (Exception e) when (e is TimeoutException)
        {
            string text2;
            lock (log)
            {
                text2 = log.ToString();
            }

            throw new TimeoutException($"{e.Message}\nprometheus:\n{text2}", e);
        }
        finally
        {
            prometheus.Kill(entireProcessTree: true);
            await prometheus.WaitForExitAsync();
        }
    }

    private static async Task<JsonElement> QueryUntilAsync(HttpClient http, string query)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            try
            {
                var body = await http.GetFromJsonAsync<JsonElement>($"/api/v1/query?query={Uri.EscapeDataString(query)}");
                var result = body.GetProperty("data").GetProperty("result");
                if (result.GetArrayLength() > 0)
                {
                    return result;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(500);
        }

        throw new TimeoutException($"Prometheus returned nothing for {query} in 60 s");
    }

    internal static async Task<(int Code, string Output)> RunAsync(string file, string[] args, string? stdin = null)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = stdin is not null };
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start)!;
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
            process.StandardInput.Close();
        }

        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout + await stderr);
    }
}
