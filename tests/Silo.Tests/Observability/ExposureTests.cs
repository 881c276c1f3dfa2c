using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Actors.Silo.Tests.Cluster;

namespace Actors.Silo.Tests.Observability;

/// <summary>What a silo shows to anyone who can reach it: /health/ready names no file, host or
/// silo address; /metrics can require a bearer token and be served only on its own port.</summary>
public sealed class ExposureTests
{
    [Fact]
    public async Task MetricsNeedTheirTokenOnTheirOwnPortAndReadinessNamesNoPath()
    {
        var dataPath = Directory.CreateTempSubdirectory("actors-exposure-").FullName;
        var metricsPort = Actors.Silo.Cluster.SiloIdentity.FreePort();
        using var silo = await SiloProcess.StartAsync(new Dictionary<string, string>
        {
            ["Cluster:Store"] = "sqlite",
            ["Cluster:Roles"] = "api,control,gpu",
            ["Cluster:DataPath"] = dataPath,
            ["Inference:Threads"] = "1",
            ["Telemetry:MetricsToken"] = "metrics-secret-1",
            ["Telemetry:MetricsUrl"] = $"http://127.0.0.1:{metricsPort}",
        });

        var ready = await silo.Http.GetStringAsync("/health/ready");
        var body = JsonDocument.Parse(ready).RootElement;
        Assert.Equal(("ready", "sqlite"), (body.GetProperty("status").GetString(), body.GetProperty("store").GetString()));
        Assert.DoesNotContain(dataPath, ready, StringComparison.Ordinal);
        Assert.DoesNotContain(".db", ready, StringComparison.Ordinal);
        Assert.False(body.TryGetProperty("silo", out _)); // no silo address either

        // On the API's port: not there, even with the token.
        using (var onApi = new HttpRequestMessage(HttpMethod.Get, "/metrics"))
        {
            onApi.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "metrics-secret-1");
            using var answer = await silo.Http.SendAsync(onApi);
            Assert.Equal(HttpStatusCode.NotFound, answer.StatusCode);
        }

        // On its own port: the token, exactly.
        using var metrics = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{metricsPort}") };
        foreach (var token in new[] { null, "metrics-secret-2", "metrics-secret-1x" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
            if (token is not null)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            }

            using var refused = await metrics.SendAsync(request);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        }

        using var scrape = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        scrape.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "metrics-secret-1");
        using var ok = await metrics.SendAsync(scrape);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Contains("http_server_request_duration_seconds_count{", await ok.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
