using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Actors.Silo.Tests.Cluster;

namespace Actors.Silo.Tests.Observability;

/// <summary><c>silo loadtest</c> against a real silo process, as an operator runs it.</summary>
public sealed class LoadTestCommandTests
{
    private static async Task<(int Code, string Out)> SiloCliAsync(params string[] args)
    {
        var dll = Path.Combine(TestPaths.Repo, "Silo", "bin", "Release", "net10.0", "Actors.Silo.dll");
        var (code, output) = await PrometheusTests.RunAsync("dotnet", [dll, .. args]);
        return (code, output);
    }

    [Fact]
    public async Task SmokePassesItsThresholdsAndAnImpossibleThresholdSetsExitCode99()
    {
        using var silo = await SiloProcess.StartEmbeddedAsync("loadtest");
        var (code, output) = await SiloCliAsync("loadtest", "--url", silo.Url, "--admin-key", SiloFactory.AdminKey, "--scenario", "smoke", "--time-scale", "0.3");
        Assert.True(code == 0, output);
        Assert.Contains("| POST /v1/jobs (wait) |", output, StringComparison.Ordinal);
        Assert.Contains("| GET /v1/jobs/{id} |", output, StringComparison.Ordinal);
        Assert.Contains("passed", output, StringComparison.Ordinal);
        Assert.Contains("req/s", output, StringComparison.Ordinal); // the progress lines

        (code, output) = await SiloCliAsync("loadtest", "--url", silo.Url, "--admin-key", SiloFactory.AdminKey, "--scenario", "smoke", "--time-scale", "0.2", "--p95-ms", "0.001");
        Assert.True(code == 99, output);
        Assert.Contains("FAILED (exit 99)", output, StringComparison.Ordinal);

        // Metrics recording switch: admin only, and a body is required.
        using var bad = new HttpRequestMessage(HttpMethod.Put, "/admin/metrics/recording") { Content = JsonContent.Create(new { }) };
        bad.Headers.Authorization = new AuthenticationHeaderValue("Bearer", SiloFactory.AdminKey);
        using var badAnswer = await silo.Http.SendAsync(bad);
        Assert.Equal(HttpStatusCode.BadRequest, badAnswer.StatusCode);
        using var anonymous = await silo.Http.PutAsJsonAsync("/admin/metrics/recording", new { enabled = false });
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);

        // Off: nothing records and /metrics says so; on again: a fresh provider, counting from zero.
        async Task SetAsync(bool enabled)
        {
            using var request = new HttpRequestMessage(HttpMethod.Put, "/admin/metrics/recording") { Content = JsonContent.Create(new { enabled }) };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", SiloFactory.AdminKey);
            using var answer = await silo.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        }

        Assert.Contains("http_server_request_duration_seconds_count{", await silo.Http.GetStringAsync("/metrics"), StringComparison.Ordinal);
        await SetAsync(false);
        using (var off = await silo.Http.GetAsync("/metrics"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, off.StatusCode);
            Assert.Contains("metrics_recording_off", await off.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        await SetAsync(true);
        using var health = await silo.Http.GetAsync("/health/live");
        var fresh = await silo.Http.GetStringAsync("/metrics");
        Assert.Contains("http_server_request_duration_seconds_count{", fresh, StringComparison.Ordinal); // the request just before
        Assert.DoesNotContain("actors_jobs_submitted_total{", fresh, StringComparison.Ordinal); // the load test's jobs were before
    }

    [Theory]
    [InlineData("--url", "http://10.1.2.3:5080")]
    [InlineData("--url", "https://127.0.0.1:5080")]
    [InlineData("--scenario", "chaos")]
    public async Task RefusesOtherHostsAndUnknownScenarios(string option, string value)
    {
        var clock = Stopwatch.StartNew();
        var (code, output) = await SiloCliAsync("loadtest", option, value, "--key", "k");
        Assert.Equal(2, code);
        Assert.True(output.Contains("loopback", StringComparison.Ordinal) || output.Contains("unknown scenario", StringComparison.Ordinal), output);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30));
    }
}
