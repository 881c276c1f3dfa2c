using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Actors.Silo.Tests.Fleet;

public sealed class CapacityApiTests(SiloFactory factory) : IClassFixture<SiloFactory>
{
    private async Task<HttpResponseMessage> GetAsync(string url, string? key = SiloFactory.AdminKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (key is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        return await factory.CreateClient().SendAsync(request);
    }

    [Fact]
    public async Task CapacityReportHasTheSeedRowsAndFollowsTheWaitTarget()
    {
        using var response = await GetAsync("/admin/capacity");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var report = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        var a4000 = report.GetProperty("summary").EnumerateArray().Single(r => r.GetProperty("gpu").GetString() == "RTX A4000");
        Assert.Equal(1152, a4000.GetProperty("perHour").GetDouble(), 6);
        Assert.Equal(0.00019m, Math.Round(a4000.GetProperty("costPerItemUsd").GetDecimal(), 5));
        Assert.Equal(5, report.GetProperty("utilisation").GetArrayLength());

        // A looser wait target lets each GPU carry more users.
        using var loose = await GetAsync("/admin/capacity?p95Wait=30");
        var looseReport = JsonDocument.Parse(await loose.Content.ReadAsStringAsync()).RootElement;
        static double Users(JsonElement r) => r.GetProperty("queueing")[0].GetProperty("usersAtTarget").GetDouble();
        Assert.True(Users(looseReport) > Users(report));
    }

    [Theory]
    [InlineData("/admin/capacity?p95Wait=-1")]
    [InlineData("/admin/capacity?p95Wait=abc")]
    [InlineData("/admin/capacity?uploadInterval=0")]
    [InlineData("/admin/capacity?p95Wait=NaN")]
    public async Task BadParametersAreProblems(string url)
    {
        using var response = await GetAsync(url);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task CapacityNeedsTheAdminKey()
    {
        using (var none = await GetAsync("/admin/capacity", key: null))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        }

        using var wrong = await GetAsync("/admin/capacity", "not-a-key");
        Assert.Equal(HttpStatusCode.Forbidden, wrong.StatusCode);
    }
}

/// <summary>The silo's command line: <c>silo plan</c> and <c>silo simulate</c> as a user runs them.</summary>
public sealed class FleetCommandTests
{
    private static async Task<(int Code, string Out, string Err)> RunSiloAsync(params string[] args)
    {
        var dll = Path.Combine(TestPaths.Repo, "Silo", "bin", "Release", "net10.0", "Actors.Silo.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(dll);
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }

    [Fact]
    public async Task PlanPrintsTheSeedTablesAndJson()
    {
        var (code, text, _) = await RunSiloAsync("plan");
        Assert.Equal(0, code);
        Assert.Contains("1,152", text, StringComparison.Ordinal);
        Assert.Contains("0.00019", text, StringComparison.Ordinal);
        Assert.Contains("27,648", text, StringComparison.Ordinal);
        (code, text, _) = await RunSiloAsync("plan", "--json");
        Assert.Equal(0, code);
        Assert.Equal(3, JsonDocument.Parse(text).RootElement.GetProperty("summary").GetArrayLength());
        (code, _, var err) = await RunSiloAsync("plan", "--p95-wait", "-3");
        Assert.Equal(2, code);
        Assert.Contains("positive", err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SimulateComparesPoliciesAndWritesTheChart()
    {
        var svg = Path.Combine(Path.GetTempPath(), $"sim-{Guid.NewGuid():N}.svg");
        try
        {
            var (code, text, err) = await RunSiloAsync("simulate", "--days", "2", "--chart", svg);
            Assert.True(code == 0, err);
            Assert.Contains("% of virtual time", text, StringComparison.Ordinal); // progress
            Assert.Contains("total cost", text, StringComparison.Ordinal);
            Assert.Contains("goal (best policy", text, StringComparison.Ordinal);
            Assert.Contains("perfect-knowledge bound: $", text, StringComparison.Ordinal);
            Assert.Contains("above the perfect-knowledge bound", text, StringComparison.Ordinal);
            Assert.Contains("forecast", text, StringComparison.Ordinal); // the default set: seed, slo, forecast
            Assert.StartsWith("<svg", await File.ReadAllTextAsync(svg), StringComparison.Ordinal);

            (code, _, err) = await RunSiloAsync("simulate", "--trace", "/no/such/trace.csv");
            Assert.Equal(2, code);
            Assert.Contains("cannot use trace", err, StringComparison.Ordinal);
            (code, _, err) = await RunSiloAsync("simulate", "--policies", "magic");
            Assert.Equal(2, code);
            Assert.Contains("unknown policy", err, StringComparison.Ordinal);
            Assert.Contains("slo-by-load", err, StringComparison.Ordinal); // the names it knows

            (code, text, err) = await RunSiloAsync("simulate", "--days", "1", "--policies", "slo-by-load", "--json");
            Assert.True(code == 0, err);
            var json = JsonDocument.Parse(text).RootElement;
            var byLoad = json.GetProperty("policies").EnumerateArray().Single();
            Assert.True(json.GetProperty("bound").GetProperty("costUsd").GetDecimal() > 0);
            Assert.True(json.GetProperty("bound").GetProperty("costUsd").GetDecimal() < byLoad.GetProperty("totalCostUsd").GetDecimal());
            Assert.Equal("slo-by-load", byLoad.GetProperty("policy").GetString());
            Assert.Contains(byLoad.GetProperty("actions").EnumerateObject(), a => a.Name.StartsWith("rented:rtx-a", StringComparison.Ordinal));

            (code, text, err) = await RunSiloAsync("simulate", "--trace", "shifted", "--days", "1", "--policies", "forecast", "--no-bound", "--json");
            Assert.True(code == 0, err);
            json = JsonDocument.Parse(text).RootElement;
            Assert.Equal("forecast", json.GetProperty("policies")[0].GetProperty("policy").GetString());
            Assert.Equal(JsonValueKind.Null, json.GetProperty("bound").ValueKind);

            (code, text, err) = await RunSiloAsync("simulate", "--days", "1", "--policies", "forecast", "--on-demand-tiers", "enterprise", "--no-bound", "--json");
            Assert.True(code == 0, err);
            var enterprise = JsonDocument.Parse(text).RootElement.GetProperty("policies")[0].GetProperty("tiers").EnumerateArray().Single(t => t.GetProperty("tier").GetInt32() == 3);
            Assert.Equal(0, enterprise.GetProperty("onSpot").GetInt32());
            Assert.True(enterprise.GetProperty("served").GetInt32() > 0);
            (code, _, err) = await RunSiloAsync("simulate", "--on-demand-tiers", "gold");
            Assert.Equal(2, code);
            Assert.Contains("unknown tier 'gold'", err, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(svg);
        }
    }
}
