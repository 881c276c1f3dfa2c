using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Actors.Fleet.Tests.Providers;

/// <summary>Lambda Cloud's <c>/api/v1</c> on loopback, as strict as its OpenAPI (1.5.3): the bearer
/// key exactly, only the documented methods and paths, a launch body with exactly the documented
/// fields (region, type, one SSH key, quantity 1, a name of 1–64 characters, user data) and nothing
/// else, one launch per <see cref="LaunchInterval"/> (429, no Retry-After, as Lambda documents),
/// answers wrapped in <c>data</c> and errors in Lambda's <c>{"error":{"code","message","suggestion"}}</c>.
/// A machine's environment is read from the <c>docker run -e</c> of its cloud-init.</summary>
public sealed partial class FakeLambdaCloud(TimeSpan launchInterval) : FakeCloud(Secret)
{
    public const string Secret = "secret_lambda_key_0123456789";

    private DateTimeOffset _lastLaunch = DateTimeOffset.MinValue;
    private int _ids;

    public string Url => Root + "/api/v1";

    public TimeSpan LaunchInterval { get; } = launchInterval;

    /// <summary>Instance types: name → (cents per hour, GPUs, regions with capacity).</summary>
    public ConcurrentDictionary<string, (int Cents, int Gpus, string[] Regions)> Types { get; } = new()
    {
        ["gpu_1x_a10"] = (75, 1, ["us-east-1", "us-west-1"]),
        ["gpu_1x_h100_pcie"] = (249, 1, ["us-west-3"]),
        ["gpu_8x_a100_80gb_sxm4"] = (1432, 8, []),
    };

    protected override string NewId() => $"0920582c7ff041399e34823a0be6{_ids++:x4}";

    protected override FakeAnswer RateLimited(int? retryAfterSeconds) =>
        new(429, """{"error":{"code":"global/unknown","message":"Too many requests"}}""", RetryAfter: retryAfterSeconds);

    protected override FakeAnswer Handle(string method, string path, string query, string body, string? authorization)
    {
        if (!path.StartsWith("/api/v1/", StringComparison.Ordinal))
        {
            return Refuse(404, Error("global/not-found", $"no such path {path}"), $"no such path {path}");
        }

        if (authorization != "Bearer " + Key)
        {
            return new FakeAnswer(401, Error("global/invalid-api-key", "API key was invalid, expired, or deleted."));
        }

        var route = path["/api/v1/".Length..];
        return (method, route) switch
        {
            ("GET", "instance-types") => Ok(InstanceTypes()),
            ("POST", "instance-operations/launch") => LaunchRequest(body),
            ("POST", "instance-operations/terminate") => TerminateRequest(body),
            ("GET", "instances") => Ok(new JsonArray([.. Held.Values.Select(Json)])),
            ("GET", _) when route.StartsWith("instances/", StringComparison.Ordinal) =>
                Held.TryGetValue(route["instances/".Length..], out var m) ? Ok(Json(m)) : new FakeAnswer(404, Error("global/object-does-not-exist", "Specified instance does not exist.")),
            _ => Refuse(404, Error("global/not-found", $"{method} {path} is not in Lambda's API"), $"{method} {path} is not in Lambda's API"),
        };
    }

    private JsonObject InstanceTypes()
    {
        var data = new JsonObject();
        foreach (var (name, (cents, gpus, regions)) in Types)
        {
            data[name] = new JsonObject
            {
                ["instance_type"] = new JsonObject
                {
                    ["name"] = name, ["description"] = name, ["gpu_description"] = name.Split('_')[2].ToUpperInvariant(), ["price_cents_per_hour"] = cents,
                    ["specs"] = new JsonObject { ["vcpus"] = 8 * gpus, ["memory_gib"] = 32 * gpus, ["storage_gib"] = 512, ["gpus"] = gpus },
                },
                ["regions_with_capacity_available"] = new JsonArray([.. (NoCapacity ? [] : regions).Select(r => (JsonNode)new JsonObject { ["name"] = r, ["description"] = r })]),
            };
        }

        return data;
    }

    private FakeAnswer LaunchRequest(string text)
    {
        if (JsonNode.Parse(text) is not JsonObject body)
        {
            return Refuse(400, Error("global/invalid-parameters", "the body must be a JSON object"), "launch: not an object");
        }

        string[] known = ["region_name", "instance_type_name", "ssh_key_names", "file_system_names", "quantity", "name", "user_data"];
        if (body.Select(p => p.Key).FirstOrDefault(k => !known.Contains(k)) is { } unknown)
        {
            return Refuse(400, Error("global/invalid-parameters", $"unknown field '{unknown}'"), $"launch: unknown field {unknown}");
        }

        if (body["region_name"]?.GetValueKind() != JsonValueKind.String || body["instance_type_name"]?.GetValueKind() != JsonValueKind.String
            || body["ssh_key_names"] is not JsonArray { Count: 1 } keys || keys[0]?.GetValueKind() != JsonValueKind.String
            || (body["quantity"] is { } q && (q.GetValueKind() != JsonValueKind.Number || q.GetValue<int>() != 1))
            || body["name"] is not JsonValue name || name.GetValueKind() != JsonValueKind.String || name.GetValue<string>().Length is 0 or > 64
            || (body["user_data"] is { } u && u.GetValueKind() != JsonValueKind.String))
        {
            return Refuse(400, Error("global/invalid-parameters", "region_name, instance_type_name, exactly one ssh_key_names, quantity 1 and a name of 1-64 characters are required"), "launch: fields");
        }

        var now = DateTimeOffset.UtcNow;
        if (now - _lastLaunch < LaunchInterval)
        {
            return new FakeAnswer(429, """{"error":{"code":"global/unknown","message":"Launch is rate limited to one request per interval"}}""");
        }

        _lastLaunch = now;
        var type = body["instance_type_name"]!.GetValue<string>();
        var region = body["region_name"]!.GetValue<string>();
        if (!Types.TryGetValue(type, out var offer))
        {
            return new FakeAnswer(400, Error("global/invalid-parameters", $"unknown instance type {type}"));
        }

        if (NoCapacity || !offer.Regions.Contains(region))
        {
            return new FakeAnswer(400, Error("instance-operations/launch/insufficient-capacity", "Not enough capacity to fulfill launch request."));
        }

        var m = Launch(name.GetValue<string>(), type, spot: false, Environment(body["user_data"]?.GetValue<string>() ?? ""), offer.Cents / 100m);
        m.Region = region;
        if (FailAfterNextLaunch)
        {
            FailAfterNextLaunch = false;
            return new FakeAnswer(500, """{"error":{"code":"global/unknown","message":"Internal server error"}}""");
        }

        return Ok(new JsonObject { ["instance_ids"] = new JsonArray(m.Id) });
    }

    private FakeAnswer TerminateRequest(string text)
    {
        if (JsonNode.Parse(text) is not JsonObject { Count: 1 } body || body["instance_ids"] is not JsonArray ids)
        {
            return Refuse(400, Error("global/invalid-parameters", "the body is {\"instance_ids\": [...]} and nothing else"), "terminate: body");
        }

        var terminated = new JsonArray();
        foreach (var id in ids.Select(i => i!.GetValue<string>()))
        {
            if (!Held.TryGetValue(id, out var m))
            {
                return new FakeAnswer(404, Error("global/object-does-not-exist", $"Specified instance {id} does not exist."));
            }

            Terminate(m);
            terminated.Add(Json(m));
        }

        return Ok(new JsonObject { ["terminated_instances"] = terminated });
    }

    private static JsonObject Json(FakeMachine m) => new()
    {
        ["id"] = m.Id, ["name"] = m.Name, ["ip"] = m.Phase == FakePhase.Running ? "203.0.113.10" : null,
        ["status"] = m.Phase switch { FakePhase.Starting => "booting", FakePhase.Running => "active", _ => "terminated" },
        ["ssh_key_names"] = new JsonArray("key"),
        ["region"] = new JsonObject { ["name"] = m.Region, ["description"] = m.Region },
        ["instance_type"] = new JsonObject { ["name"] = m.GpuType, ["price_cents_per_hour"] = (int)(m.PerHour * 100) },
        ["hostname"] = $"{m.Id}.cloud.lambdalabs.com",
    };

    /// <summary>The environment of the <c>docker run … '-e', 'K=V'</c> in a cloud-init's runcmd list.</summary>
    private static Dictionary<string, string> Environment(string userData) =>
        EnvFlag().Matches(userData).Select(m => m.Groups[1].Value.Replace("''", "'", StringComparison.Ordinal))
            .Select(kv => kv.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv[1], StringComparer.Ordinal);

    [GeneratedRegex(@"'-e', '((?:[^']|'')*)'")]
    private static partial Regex EnvFlag();

    private static FakeAnswer Ok(JsonNode data) => new(200, new JsonObject { ["data"] = data }.ToJsonString());

    private static string Error(string code, string message) =>
        new JsonObject { ["error"] = new JsonObject { ["code"] = code, ["message"] = message, ["suggestion"] = "see the API docs" } }.ToJsonString();
}
