using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Actors.Silo.Tests.Fleet;

/// <summary>The fleet's admin API over HTTP (embedded silo): the view, settings validation, operator
/// actions on the silo's own GPU host, analytics; bad input is a 4xx ProblemDetails that changes
/// nothing.</summary>
public sealed class FleetApiTests(FleetApiTests.Factory factory) : IClassFixture<FleetApiTests.Factory>
{
    public sealed class Factory : SiloFactory
    {
        protected override IEnumerable<(string Key, string Value)> Settings() => [("Cluster:InstanceId", "gpu-fleet"), ("Fleet:TickSeconds", "0.3")];
    }

    private async Task<(HttpStatusCode Status, JsonElement Body, string? Type)> SendAsync(HttpMethod method, string url, string? json = null)
    {
        using var request = SiloFactory.AdminRequest(method, url);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        using var response = await factory.CreateClient().SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length > 0 ? JsonDocument.Parse(text).RootElement.Clone() : default, response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("""{"minHot": 5, "maxInstances": 2}""", HttpStatusCode.BadRequest, "invalid_settings")]
    [InlineData("""{"minHot": -1}""", HttpStatusCode.BadRequest, "invalid_settings")]
    [InlineData("""{"policy": "magic"}""", HttpStatusCode.BadRequest, "invalid_settings")]
    [InlineData("""{"dailyBudgetUsd": -3}""", HttpStatusCode.BadRequest, "invalid_settings")]
    [InlineData("""{"dailyBudgetUsd": 3, "clearBudget": true}""", HttpStatusCode.BadRequest, "malformed_request")]
    [InlineData("""{"provider": "aws"}""", HttpStatusCode.UnprocessableEntity, "unknown_provider")]
    [InlineData("""{"provider": "host"}""", HttpStatusCode.UnprocessableEntity, "unknown_provider")]
    [InlineData("""{"gpuType": "tpu-v9"}""", HttpStatusCode.UnprocessableEntity, "unknown_gpu")]
    [InlineData("""{"minHot": 1, "minHots": 2}""", HttpStatusCode.UnprocessableEntity, "unknown_fields")]
    public async Task BadSettingsAreRefusedAndChangeNothing(string body, HttpStatusCode status, string type)
    {
        var before = (await SendAsync(HttpMethod.Get, "/admin/fleet")).Body.GetProperty("pool").GetProperty("settings").GetRawText();
        var (code, problem, mediaType) = await SendAsync(HttpMethod.Put, "/admin/fleet/settings", body);
        Assert.Equal((status, "application/problem+json", type), (code, mediaType, problem.GetProperty("type").GetString()));
        Assert.Equal(before, (await SendAsync(HttpMethod.Get, "/admin/fleet")).Body.GetProperty("pool").GetProperty("settings").GetRawText());
    }

    [Theory]
    [InlineData("PUT", "/admin/fleet/settings")]
    [InlineData("POST", "/admin/tenants")]
    [InlineData("PUT", "/admin/tenants/nobody/tier")]
    public async Task MalformedJsonIsAProblemNotAnError(string method, string url)
    {
        var (code, _, mediaType) = await SendAsync(new HttpMethod(method), url, "{\"minHot\": \"many\"");
        Assert.Equal((HttpStatusCode.BadRequest, "application/problem+json"), (code, mediaType));
    }

    [Fact]
    public async Task SettingsAreSavedAndShownInThePoolView()
    {
        var (code, pool, _) = await SendAsync(HttpMethod.Put, "/admin/fleet/settings", """{"policy": "slo-by-load", "maxInstances": 6, "dailyBudgetUsd": 40}""");
        Assert.Equal(HttpStatusCode.OK, code);
        var settings = pool.GetProperty("settings");
        Assert.Equal(("slo-by-load", 6, 40m), (settings.GetProperty("policy").GetString(), settings.GetProperty("maxInstances").GetInt32(), settings.GetProperty("dailyBudgetUsd").GetDecimal()));
        var cleared = (await SendAsync(HttpMethod.Put, "/admin/fleet/settings", """{"clearBudget": true, "policy": "seed"}""")).Body.GetProperty("settings");
        Assert.Equal(JsonValueKind.Null, cleared.GetProperty("dailyBudgetUsd").ValueKind);
        Assert.Contains((await SendAsync(HttpMethod.Get, "/admin/fleet")).Body.GetProperty("pool").GetProperty("recent").EnumerateArray(),
            e => e.GetProperty("kind").GetString() == "settings");
    }

    [Fact]
    public async Task AnOperatorStopsAndResumesTheSilosOwnGpuHostAndWrongActionsAreProblems()
    {
        Assert.Equal((HttpStatusCode.NotFound, "unknown_action"), Problem(await SendAsync(HttpMethod.Post, "/admin/instances/gpu-fleet/explode")));
        Assert.Equal((HttpStatusCode.NotFound, "unknown_instance"), Problem(await SendAsync(HttpMethod.Post, "/admin/instances/nope/stop")));
        await WaitForAsync("HOT");
        Assert.Equal((HttpStatusCode.Conflict, "invalid_transition"), Problem(await SendAsync(HttpMethod.Post, "/admin/instances/gpu-fleet/resume")));
        Assert.Equal((HttpStatusCode.Conflict, "invalid_transition"), Problem(await SendAsync(HttpMethod.Post, "/admin/instances/gpu-fleet/release")));

        // The host's status is read throughout the stop and the resume: an unload between two
        // reads of the engine must never make it a 500.
        using var reading = new CancellationTokenSource();
        var statuses = Task.Run(async () =>
        {
            var seen = new List<HttpStatusCode>();
            while (!reading.IsCancellationRequested)
            {
                seen.Add((await SendAsync(HttpMethod.Get, "/admin/host")).Status);
                seen.Add((await SendAsync(HttpMethod.Get, "/health/ready")).Status);
            }

            return seen;
        });

        var (stopped, instance, _) = await SendAsync(HttpMethod.Post, "/admin/instances/gpu-fleet/stop");
        Assert.True(stopped == HttpStatusCode.Accepted, $"stop answered {(int)stopped}: {instance}");
        Assert.Equal("stop", instance.GetProperty("pending").GetProperty("operation").GetString());
        Assert.Equal((HttpStatusCode.Conflict, "invalid_transition"), Problem(await SendAsync(HttpMethod.Post, "/admin/instances/gpu-fleet/stop"))); // one at a time
        var warm = await WaitForAsync("WARM");
        Assert.Empty(warm.GetProperty("models").EnumerateArray());
        Assert.True(warm.GetProperty("measuredSeconds").GetProperty("stop").GetDouble() >= 0);

        // A WARM host runs nothing: a direct inference is a 503, not a crash.
        using (var infer = SiloFactory.AdminRequest(HttpMethod.Post, "/v1/models/identity/infer"))
        {
            infer.Content = JsonContent.Create(ApiClient.Identity(new float[16]));
            using var response = await factory.CreateClient().SendAsync(infer);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        }

        var ready = await SendAsync(HttpMethod.Get, "/health/ready");
        Assert.Equal((HttpStatusCode.ServiceUnavailable, "instance_warm"), Problem(ready)); // not ready to serve while WARM

        Assert.Equal(HttpStatusCode.Accepted, (await SendAsync(HttpMethod.Post, "/admin/instances/gpu-fleet/resume")).Status);
        var hot = await WaitForAsync("HOT");
        Assert.Contains("identity", hot.GetProperty("models").EnumerateArray().Select(m => m.GetString()));
        Assert.True(hot.GetProperty("measuredSeconds").GetProperty("resume").GetDouble() > 0);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, "/health/ready")).Status);
        await reading.CancelAsync();
        var seen = await statuses;
        Assert.All(seen, status => Assert.True(status is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, $"a status read answered {(int)status}"));
        Assert.Contains(HttpStatusCode.ServiceUnavailable, seen); // it did read while WARM
    }

    [Theory]
    [InlineData("/admin/analytics?days=0")]
    [InlineData("/admin/analytics?days=91")]
    [InlineData("/admin/analytics?days=seven")]
    public async Task AnalyticsRefusesBadRanges(string url) =>
        Assert.Equal((HttpStatusCode.BadRequest, "malformed_request"), Problem(await SendAsync(HttpMethod.Get, url)));

    private static (HttpStatusCode, string?) Problem((HttpStatusCode Status, JsonElement Body, string? Type) r) =>
        (r.Status, r.Type == "application/problem+json" ? r.Body.GetProperty("type").GetString() : r.Type);

    private async Task<JsonElement> WaitForAsync(string state)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var (status, fleet, _) = await SendAsync(HttpMethod.Get, "/admin/fleet");
            Assert.True(status == HttpStatusCode.OK, $"GET /admin/fleet answered {(int)status}: {fleet}");
            var instance = fleet.GetProperty("instances").EnumerateArray().Single(i => i.GetProperty("id").GetString() == "gpu-fleet");
            if (instance.GetProperty("state").GetString() == state && instance.GetProperty("pending").ValueKind == JsonValueKind.Null)
            {
                return instance;
            }

            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"gpu-fleet never {state}: {instance}");
            await Task.Delay(100);
        }
    }
}
