using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Actors.Fleet.Tests.Providers;

/// <summary>Lambda Cloud's <c>/api/v1</c> on loopback, as strict as its OpenAPI (1.5.3): the bearer
/// key exactly, only the documented methods and paths, a launch body with exactly the documented
/// fields (region, type, one SSH key, quantity 1, a name of 1–64 characters, optional user data)
/// and nothing else, one launch per <see cref="LaunchInterval"/> (429, no Retry-After, as Lambda
/// documents), answers wrapped in <c>data</c> and errors in Lambda's
/// <c>{"error":{"code","message","suggestion"}}</c>. Failures on demand: no capacity, a 500 after
/// the launch did rent, 429s with and without Retry-After, a machine that never leaves booting.
/// A request it cannot place is answered 400 with what was wrong and recorded in <see cref="Refused"/>.</summary>
public sealed class FakeLambdaCloud : IDisposable
{
    public const string Key = "secret_lambda_key_0123456789";

    private readonly HttpListener _listener = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _serving;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, JsonObject> _machines = new(StringComparer.Ordinal);
    private DateTimeOffset _lastLaunch = DateTimeOffset.MinValue;
    private int _next;

    public FakeLambdaCloud(TimeSpan launchInterval)
    {
        LaunchInterval = launchInterval;
        var port = FreePort();
        Url = $"http://127.0.0.1:{port}/api/v1";
        _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        _listener.Start();
        _serving = Task.Run(ServeAsync);
    }

    public string Url { get; }

    public TimeSpan LaunchInterval { get; }

    /// <summary>Instance types: name → (cents per hour, GPUs, regions with capacity).</summary>
    public ConcurrentDictionary<string, (int Cents, int Gpus, string[] Regions)> Types { get; } = new()
    {
        ["gpu_1x_a10"] = (75, 1, ["us-east-1", "us-west-1"]),
        ["gpu_1x_h100_pcie"] = (249, 1, ["us-west-3"]),
        ["gpu_8x_a100_80gb_sxm4"] = (1432, 8, []),
    };

    /// <summary>The next launch answers 500 although the machine was created (seen at RunPod; any cloud can).</summary>
    public bool FailAfterNextLaunch { get; set; }

    /// <summary>The next N requests get 429, with this Retry-After (null: none, as Lambda documents).</summary>
    public (int Count, int? RetryAfterSeconds) RateLimitNext { get; set; }

    public ConcurrentQueue<string> Requests { get; } = new();

    public ConcurrentQueue<string> Refused { get; } = new();

    /// <summary>Machines as Lambda holds them, any name (including ones not ours).</summary>
    public IReadOnlyList<(string Id, string Name, string Status)> Machines
    {
        get
        {
            lock (_lock)
            {
                return [.. _machines.Values.Select(m => (m["id"]!.GetValue<string>(), m["name"]!.GetValue<string>(), m["status"]!.GetValue<string>()))];
            }
        }
    }

    /// <summary>A machine someone else launched on the same account (not ours: no prefix).</summary>
    public string AddForeign(string name)
    {
        lock (_lock)
        {
            var id = NewMachine(name, "gpu_1x_a10", "us-east-1", "active");
            return id;
        }
    }

    /// <summary>Moves every booting machine to active (the boot is over).</summary>
    public void BootAll()
    {
        lock (_lock)
        {
            foreach (var m in _machines.Values.Where(m => m["status"]!.GetValue<string>() == "booting"))
            {
                m["status"] = "active";
                m["ip"] = "203.0.113." + (_machines.Count + 10);
            }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        try
        {
            _serving.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }

        _listener.Close();
        _stop.Dispose();
    }

    private async Task ServeAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            try
            {
                var (status, body, retryAfter) = Handle(context.Request);
                if (retryAfter is { } seconds)
                {
                    context.Response.AddHeader("Retry-After", seconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
                }

                context.Response.StatusCode = status;
                context.Response.ContentType = "application/json";
                var bytes = Encoding.UTF8.GetBytes(body);
                await context.Response.OutputStream.WriteAsync(bytes);
                context.Response.Close();
            }
            catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException)
            {
                // the client went away
            }
        }
    }

    private (int Status, string Body, int? RetryAfter) Handle(HttpListenerRequest request)
    {
        var path = request.Url!.AbsolutePath;
        var body = new StreamReader(request.InputStream, Encoding.UTF8).ReadToEnd();
        Requests.Enqueue($"{request.HttpMethod} {path} {body}");
        if (!path.StartsWith("/api/v1/", StringComparison.Ordinal))
        {
            return Refuse(404, "global/not-found", $"no such path {path}");
        }

        if (request.Headers["Authorization"] != "Bearer " + Key)
        {
            return Error(401, "global/invalid-api-key", "API key was invalid, expired, or deleted.");
        }

        if (RateLimitNext.Count > 0)
        {
            RateLimitNext = (RateLimitNext.Count - 1, RateLimitNext.RetryAfterSeconds);
            return (429, """{"error":{"code":"global/unknown","message":"Too many requests"}}""", RateLimitNext.RetryAfterSeconds);
        }

        var route = path["/api/v1/".Length..];
        lock (_lock)
        {
            return (request.HttpMethod, route) switch
            {
                ("GET", "instance-types") => Ok(InstanceTypes()),
                ("POST", "instance-operations/launch") => Launch(body),
                ("POST", "instance-operations/terminate") => Terminate(body),
                ("GET", "instances") => Ok(new JsonArray([.. _machines.Values.Select(m => m.DeepClone())])),
                ("GET", _) when route.StartsWith("instances/", StringComparison.Ordinal) =>
                    _machines.TryGetValue(route["instances/".Length..], out var m) ? Ok(m.DeepClone()) : Error(404, "global/object-does-not-exist", "Specified instance does not exist."),
                _ => Refuse(404, "global/not-found", $"{request.HttpMethod} {path} is not in Lambda's API"),
            };
        }
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
                ["regions_with_capacity_available"] = new JsonArray([.. regions.Select(r => (JsonNode)new JsonObject { ["name"] = r, ["description"] = r })]),
            };
        }

        return data;
    }

    private (int, string, int?) Launch(string text)
    {
        if (JsonNode.Parse(text) is not JsonObject body)
        {
            return Refuse(400, "global/invalid-parameters", "the body must be a JSON object");
        }

        string[] known = ["region_name", "instance_type_name", "ssh_key_names", "file_system_names", "quantity", "name", "user_data"];
        if (body.Select(p => p.Key).FirstOrDefault(k => !known.Contains(k)) is { } unknown)
        {
            return Refuse(400, "global/invalid-parameters", $"unknown field '{unknown}'");
        }

        if (body["region_name"]?.GetValueKind() != JsonValueKind.String || body["instance_type_name"]?.GetValueKind() != JsonValueKind.String
            || body["ssh_key_names"] is not JsonArray { Count: 1 } keys || keys[0]?.GetValueKind() != JsonValueKind.String
            || (body["quantity"] is { } q && (q.GetValueKind() != JsonValueKind.Number || q.GetValue<int>() != 1))
            || body["name"] is not JsonValue name || name.GetValueKind() != JsonValueKind.String || name.GetValue<string>().Length is 0 or > 64)
        {
            return Refuse(400, "global/invalid-parameters", "region_name, instance_type_name, exactly one ssh_key_names, quantity 1 and a name of 1-64 characters are required");
        }

        var now = DateTimeOffset.UtcNow;
        if (now - _lastLaunch < LaunchInterval)
        {
            return (429, """{"error":{"code":"global/unknown","message":"Launch is rate limited to one request per interval"}}""", null);
        }

        _lastLaunch = now;
        var type = body["instance_type_name"]!.GetValue<string>();
        var region = body["region_name"]!.GetValue<string>();
        if (!Types.TryGetValue(type, out var offer))
        {
            return Error(400, "global/invalid-parameters", $"unknown instance type {type}");
        }

        if (!offer.Regions.Contains(region))
        {
            return Error(400, "instance-operations/launch/insufficient-capacity", "Not enough capacity to fulfill launch request.");
        }

        var id = NewMachine(name.GetValue<string>(), type, region, "booting");
        if (FailAfterNextLaunch)
        {
            FailAfterNextLaunch = false;
            return (500, """{"error":{"code":"global/unknown","message":"Internal server error"}}""", null);
        }

        return Ok(new JsonObject { ["instance_ids"] = new JsonArray(id) });
    }

    private (int, string, int?) Terminate(string text)
    {
        if (JsonNode.Parse(text) is not JsonObject { Count: 1 } body || body["instance_ids"] is not JsonArray ids)
        {
            return Refuse(400, "global/invalid-parameters", "the body is {\"instance_ids\": [...]} and nothing else");
        }

        var terminated = new JsonArray();
        foreach (var id in ids.Select(i => i!.GetValue<string>()))
        {
            if (!_machines.TryGetValue(id, out var m))
            {
                return Error(404, "global/object-does-not-exist", $"Specified instance {id} does not exist.");
            }

            m["status"] = "terminated";
            terminated.Add(m.DeepClone());
        }

        return Ok(new JsonObject { ["terminated_instances"] = terminated });
    }

    private string NewMachine(string name, string type, string region, string status)
    {
        var id = $"0920582c7ff041399e34823a0be6{_next++:x4}";
        var (cents, gpus, _) = Types[type];
        _machines[id] = new JsonObject
        {
            ["id"] = id, ["name"] = name, ["ip"] = null, ["status"] = status, ["ssh_key_names"] = new JsonArray("key"),
            ["region"] = new JsonObject { ["name"] = region, ["description"] = region },
            ["instance_type"] = new JsonObject { ["name"] = type, ["price_cents_per_hour"] = cents, ["specs"] = new JsonObject { ["gpus"] = gpus } },
            ["hostname"] = $"{id}.cloud.lambdalabs.com",
        };
        return id;
    }

    private static (int, string, int?) Ok(JsonNode data) => (200, new JsonObject { ["data"] = data }.ToJsonString(), null);

    private static (int, string, int?) Error(int status, string code, string message) =>
        (status, new JsonObject { ["error"] = new JsonObject { ["code"] = code, ["message"] = message, ["suggestion"] = "see the API docs" } }.ToJsonString(), null);

    private (int, string, int?) Refuse(int status, string code, string message)
    {
        Refused.Enqueue(message);
        return Error(status, code, message);
    }

    private static int FreePort()
    {
        using var socket = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }
}
