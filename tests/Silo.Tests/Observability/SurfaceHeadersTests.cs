using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Actors.Client.Api.Jobs;
using Microsoft.AspNetCore.Http;

namespace Actors.Silo.Tests.Observability;

/// <summary>What the embedded silo's surfaces tell a browser and a scraper: the dashboard may not be
/// framed, sniffed or fed another origin's script; /metrics on loopback stays open.</summary>
public sealed class DashboardHeadersTests(SiloFactory factory) : IClassFixture<SiloFactory>
{
    [Theory]
    [InlineData("/dashboard/", HttpStatusCode.OK)]
    [InlineData("/dashboard/dashboard.js", HttpStatusCode.OK)]
    [InlineData("/dashboard/dashboard.css", HttpStatusCode.OK)]
    [InlineData("/dashboard/no-such-file", HttpStatusCode.NotFound)]
    public async Task EveryDashboardAnswerCarriesTheSecurityHeaders(string path, HttpStatusCode status)
    {
        using var response = await factory.CreateClient().GetAsync(path);
        Assert.Equal(status, response.StatusCode);
        var csp = response.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
        Assert.Contains("script-src 'self'", csp, StringComparison.Ordinal);
        Assert.Contains("default-src 'none'", csp, StringComparison.Ordinal);
        Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("no-referrer", response.Headers.GetValues("Referrer-Policy").Single());
    }

    [Fact]
    public async Task EmbeddedMetricsOnLoopbackStayOpen()
    {
        using var response = await factory.CreateClient().GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    /// <summary>Prefer: wait=N is capped at Api:MaxWaitSeconds however many digits N has.</summary>
    [Theory]
    [InlineData("wait=5", 5)]
    [InlineData("wait=0005", 5)]
    [InlineData("wait=\"3\"", 3)]
    [InlineData("wait=60", 60)]
    [InlineData("wait=61", 60)]
    [InlineData("wait=2147483647", 60)]
    [InlineData("wait=2147483648", 60)]
    [InlineData("wait=4294967296", 60)]
    [InlineData("wait=99999999999999999999999", 60)]
    [InlineData("respond-async, wait=4294967296", 60)]
    [InlineData("wait=-1", null)]
    [InlineData("wait=", null)]
    [InlineData("wait=1e3", null)]
    [InlineData("return=minimal", null)]
    public void PreferWaitIsCappedLikeAnyLargeValue(string prefer, int? seconds)
    {
        var context = new DefaultHttpContext();
        context.Request.Headers["Prefer"] = prefer;
        Assert.Equal(seconds is { } s ? TimeSpan.FromSeconds(s) : null, JobsApi.PreferredWait(context.Request, 60));
    }
}

/// <summary>A cluster silo shows its metrics only to whom the operator says.</summary>
public sealed class ClusterMetricsTests(PostgresSiloFactory factory) : IClassFixture<PostgresSiloFactory>
{
    [Fact]
    public async Task ClusterMetricsAreClosedWithoutATokenOrAPortOfTheirOwn()
    {
        using var response = await factory.CreateClient().GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("metrics_closed", problem.GetProperty("type").GetString());
        Assert.Contains("Telemetry:MetricsToken", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("actors_", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
