using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Actors.Fleet.Tests.Providers;

/// <summary>RunPod on loopback: GraphQL at <c>/graphql</c> and REST v2 pods at <c>/v2/pods</c>, as
/// strict as their documents: the bearer key; a GraphQL body of exactly <c>query</c> and
/// <c>variables</c>; only the operations we use, recognised by their root field, with the input
/// fields each documents (an unknown input field is HTTP 400 at variable validation, as RunPod
/// does); errors the GraphQL way — HTTP 200 with <c>errors[]</c> ("There are no longer any instances
/// available…", "pod not found to terminate"); v2 reads with v2's statuses and 404s; 429s with
/// Retry-After (v2 sends it). A spot pod needs <c>bidPerGpu</c> at or over the minimum bid.</summary>
public sealed partial class FakeRunPod() : FakeCloud(Secret)
{
    public const string Secret = "rpa_SECRETRUNPODKEY0123456789";

    private static readonly string[] PodInput = ["name", "imageName", "gpuTypeId", "gpuCount", "cloudType", "containerDiskInGb", "volumeInGb", "volumeMountPath", "ports", "env",
        "startSsh", "supportPublicIp", "dataCenterId", "countryCode", "templateId", "networkVolumeId", "minVcpuCount", "minMemoryInGb", "dockerArgs", "allowedCudaVersions"];

    private int _ids;

    /// <summary>GPU types: id → (on-demand $/h, minimum bid $/h, stock).</summary>
    public Dictionary<string, (decimal OnDemand, decimal MinBid, string Stock)> GpuTypes { get; } = new(StringComparer.Ordinal)
    {
        ["NVIDIA GeForce RTX 4090"] = (0.69m, 0.34m, "High"),
        ["NVIDIA A100 80GB PCIe"] = (1.64m, 0.82m, "Low"),
        ["NVIDIA H100 80GB HBM3"] = (2.99m, 1.75m, "None"),
    };

    /// <summary>No spot capacity (spot rents refused), on-demand still there.</summary>
    public bool NoSpotCapacity { get; set; }

    protected override string NewId() => $"pod{++_ids:x4}qynxzilsx";

    protected override FakeAnswer RateLimited(int? retryAfterSeconds) =>
        new(429, """{"title":"Too Many Requests","status":429,"detail":"rate limit exceeded for the minute window"}""", "application/problem+json", retryAfterSeconds);

    protected override FakeAnswer Handle(string method, string path, string query, string body, string? authorization)
    {
        if (authorization != "Bearer " + Key)
        {
            return new FakeAnswer(401, """{"title":"Unauthorized","status":401,"detail":"invalid api key"}""", "application/problem+json");
        }

        return (method, path) switch
        {
            ("POST", "/graphql") => GraphQl(body),
            ("GET", "/v2/pods") => new FakeAnswer(200, new JsonObject { ["pods"] = new JsonArray([.. Held.Values.Select(Pod)]) }.ToJsonString()),
            ("GET", _) when path.StartsWith("/v2/pods/", StringComparison.Ordinal) =>
                Held.TryGetValue(Uri.UnescapeDataString(path["/v2/pods/".Length..]), out var m) && m.Phase != FakePhase.Gone
                    ? new FakeAnswer(200, Pod(m).ToJsonString())
                    : new FakeAnswer(404, """{"title":"Not Found","status":404,"detail":"pod not found"}""", "application/problem+json"),
            _ => Refuse(404, """{"title":"Not Found","status":404}""", $"{method} {path} is not in RunPod's API (REST v1 is retired)"),
        };
    }

    private FakeAnswer GraphQl(string text)
    {
        if (JsonNode.Parse(text) is not JsonObject body || body.Any(p => p.Key is not ("query" or "variables")) || body["query"]?.GetValueKind() != JsonValueKind.String)
        {
            return Refuse(400, """{"errors":[{"message":"Must provide query string."}]}""", "graphql: body");
        }

        var query = body["query"]!.GetValue<string>();
        var variables = body["variables"] as JsonObject ?? [];
        var field = RootField().Match(query) is { Success: true } match ? match.Groups[1].Value : "";
        var input = variables["input"] as JsonObject;
        return field switch
        {
            "gpuTypes" when query.Contains("lowestPrice(input: $lowest)", StringComparison.Ordinal) && variables["lowest"] is JsonObject => Data(new JsonObject { ["gpuTypes"] = GpuTypeList(variables["lowest"]!) }),
            "podFindAndDeployOnDemand" or "podRentInterruptable" when input is not null => Deploy(field, input),
            "podStop" or "podResume" or "podBidResume" or "podTerminate" when input?["podId"]?.GetValueKind() == JsonValueKind.String => PodMutation(field, input),
            _ => Refuse(400, """{"errors":[{"message":"Unknown or malformed operation"}]}""", $"graphql: operation '{field}' or its variables"),
        };
    }

    private JsonArray GpuTypeList(JsonNode lowest) => new([.. GpuTypes.Select(g => (JsonNode)new JsonObject
    {
        ["id"] = g.Key, ["displayName"] = g.Key.Replace("NVIDIA ", "", StringComparison.Ordinal), ["memoryInGb"] = 80,
        ["securePrice"] = g.Value.OnDemand, ["communityPrice"] = g.Value.OnDemand * 0.8m, ["secureSpotPrice"] = g.Value.MinBid, ["communitySpotPrice"] = g.Value.MinBid * 0.8m,
        ["lowestPrice"] = new JsonObject
        {
            ["stockStatus"] = NoCapacity ? "None" : g.Value.Stock,
            ["minimumBidPrice"] = g.Value.MinBid * (lowest["gpuCount"]?.GetValue<int>() ?? 1),
            ["uninterruptablePrice"] = g.Value.OnDemand * (lowest["gpuCount"]?.GetValue<int>() ?? 1),
        },
    })]);

    private FakeAnswer Deploy(string field, JsonObject input)
    {
        var spot = field == "podRentInterruptable";
        if (input.Select(p => p.Key).FirstOrDefault(k => !PodInput.Contains(k) && !(spot && k == "bidPerGpu")) is { } unknown)
        {
            return Refuse(400, $$"""{"errors":[{"message":"Variable \"$input\" got invalid value; Field \"{{unknown}}\" is not defined by type \"{{(spot ? "PodRentInterruptableInput" : "PodFindAndDeployOnDemandInput")}}\"."}]}""", $"deploy: unknown input field {unknown}");
        }

        if (input["name"]?.GetValueKind() != JsonValueKind.String || input["imageName"]?.GetValueKind() != JsonValueKind.String
            || input["gpuTypeId"]?.GetValueKind() != JsonValueKind.String || input["gpuCount"]?.GetValueKind() != JsonValueKind.Number
            || (input["env"] is { } env && (env is not JsonArray list || list.Any(e => e is not JsonObject { Count: 2 } kv || kv["key"] is null || kv["value"] is null)))
            || (spot && input["bidPerGpu"]?.GetValueKind() != JsonValueKind.Number))
        {
            return Refuse(400, """{"errors":[{"message":"Variable \"$input\" got invalid value"}]}""", "deploy: required fields or env shape");
        }

        var type = input["gpuTypeId"]!.GetValue<string>();
        if (!GpuTypes.TryGetValue(type, out var g))
        {
            return Data(null, "Could not find gpu type " + type);
        }

        if (NoCapacity || g.Stock == "None" || (spot && NoSpotCapacity))
        {
            return Data(null, "There are no longer any instances available with the requested specifications. Please refresh and try again.");
        }

        var bid = spot ? input["bidPerGpu"]!.GetValue<decimal>() : 0;
        if (spot && bid < g.MinBid)
        {
            return Data(null, $"Your bid price is below the minimum bid price of {g.MinBid.ToString(CultureInfo.InvariantCulture)}");
        }

        var env2 = (input["env"] as JsonArray ?? []).ToDictionary(e => e!["key"]!.GetValue<string>(), e => e!["value"]!.GetValue<string>(), StringComparer.Ordinal);
        var m = Launch(input["name"]!.GetValue<string>(), type, spot, env2, spot ? bid : g.OnDemand);
        m.Bid = spot ? bid : null;
        if (FailAfterNextLaunch)
        {
            FailAfterNextLaunch = false;
            return new FakeAnswer(500, """{"errors":[{"message":"Something went wrong. Please try again later or contact support."}]}""");
        }

        return Data(new JsonObject { [field] = new JsonObject { ["id"] = m.Id, ["desiredStatus"] = "RUNNING" } });
    }

    private FakeAnswer PodMutation(string field, JsonObject input)
    {
        var id = input["podId"]!.GetValue<string>();
        if (!Held.TryGetValue(id, out var m) || m.Phase == FakePhase.Gone)
        {
            return Data(null, field == "podTerminate" ? "pod not found to terminate" : "pod not found");
        }

        switch (field)
        {
            case "podStop":
                Stop(m);
                break;
            case "podResume" when m.Spot:
                return Data(null, "This is an interruptible pod: resume it with podBidResume");
            case "podBidResume" when !m.Spot || input["bidPerGpu"]?.GetValueKind() != JsonValueKind.Number:
                return Refuse(400, """{"errors":[{"message":"podBidResume needs an interruptible pod and bidPerGpu"}]}""", "bid resume: shape");
            case "podResume" or "podBidResume":
                if (NoCapacity || (m.Spot && NoSpotCapacity))
                {
                    return Data(null, "There are not enough free GPUs on the host machine to start this pod.");
                }

                Start(m);
                break;
            default:
                Terminate(m);
                return Data(new JsonObject { ["podTerminate"] = null });
        }

        return Data(new JsonObject { [field] = new JsonObject { ["id"] = m.Id, ["desiredStatus"] = m.Phase == FakePhase.Stopped ? "EXITED" : "RUNNING" } });
    }

    private static JsonObject Pod(FakeMachine m)
    {
        var status = m.Phase switch { FakePhase.Starting => "STARTING", FakePhase.Running => "RUNNING", FakePhase.Stopped => "EXITED", _ => "TERMINATED" };
        return new JsonObject
        {
            ["id"] = m.Id, ["name"] = m.Name, ["status"] = status, ["cost"] = m.Phase is FakePhase.Running or FakePhase.Starting ? m.PerHour : 0m,
            ["gpu"] = new JsonObject { ["id"] = m.GpuType, ["count"] = 1 }, ["cloud"] = "SECURE", ["dataCenterId"] = "EU-RO-1",
            ["actions"] = new JsonArray([.. (status switch { "RUNNING" => ["stop", "restart", "terminate"], "EXITED" => ["start", "terminate"], _ => new[] { "stop", "terminate" } }).Select(a => (JsonNode)a)]),
        };
    }

    private static FakeAnswer Data(JsonObject? data, string? error = null) =>
        new(200, error is null ? new JsonObject { ["data"] = data }.ToJsonString()
            : new JsonObject { ["errors"] = new JsonArray(new JsonObject { ["message"] = error, ["path"] = new JsonArray() }), ["data"] = null }.ToJsonString());

    [GeneratedRegex(@"^\s*(?:query|mutation)\s+\w+\s*(?:\([^)]*\))?\s*\{\s*(\w+)")]
    private static partial Regex RootField();
}
