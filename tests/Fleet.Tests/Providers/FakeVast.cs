using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Actors.Fleet.Tests.Providers;

/// <summary>Vast.ai on loopback (<c>/api/v0</c>, the list at <c>/api/v1/instances/</c>), as strict as
/// its documents: the bearer key; a search body of filter objects and the documented keys; a create
/// body with only documented fields, <c>env</c> an object, <c>price</c> 0.001–128 (present: a bid);
/// a bid under the offer's minimum creates the instance <i>stopped</i> and answers an error with its
/// id, as Vast does; state changes with <c>{"state": running|stopped}</c> only; the per-endpoint
/// minimum intervals enforced (on arrival, with a quarter's slack for loopback jitter) with Vast's plain-text 429 (no Retry-After); one instance as an
/// object, the list 25 a page with <c>next_token</c>; an outbid spot instance stops.</summary>
public sealed class FakeVast(double intervalScale) : FakeCloud(Secret)
{
    public const string Secret = "vast_SECRET_0123456789abcdef";

    private static readonly string[] CreateFields = ["client_id", "image", "template_hash_id", "disk", "label", "runtype", "onstart", "args", "args_str", "env", "price",
        "target_state", "cancel_unavail", "image_login", "user", "python_utf8", "lang_utf8", "use_jupyter_lab", "jupyter_dir", "force", "vm", "volume_info"];

    private readonly Dictionary<string, DateTimeOffset> _last = new(StringComparer.Ordinal);
    private int _ids = 9_000_000;

    /// <summary>Offers: ask id → (GPU, dph_total, min_bid, country).</summary>
    public Dictionary<long, (string Gpu, decimal PerHour, decimal MinBid, string Geo)> Offers { get; } = new()
    {
        [4_101_001] = ("RTX 4090", 0.42m, 0.21m, "California, US"),
        [4_101_002] = ("RTX 4090", 0.47m, 0.25m, "Quebec, CA"),
        [4_101_003] = ("RTX A4000", 0.19m, 0.08m, "Bavaria, DE"),
    };

    protected override string NewId() => (++_ids).ToString(CultureInfo.InvariantCulture);

    protected override FakeAnswer RateLimited(int? retryAfterSeconds) => new(429, "API requests too frequent", "text/plain", retryAfterSeconds);

    protected override FakeAnswer Handle(string method, string path, string query, string body, string? authorization)
    {
        if (authorization != "Bearer " + Key)
        {
            return new FakeAnswer(401, """{"success":false,"error":"auth_error","msg":"Invalid user key"}""");
        }

        var (endpoint, threshold) = (method, path) switch
        {
            ("POST", "/api/v0/bundles/") => ("search", 6.0),
            ("PUT", _) when path.StartsWith("/api/v0/asks/", StringComparison.Ordinal) => ("create", 4.5),
            ("PUT", _) when path.StartsWith("/api/v0/instances/", StringComparison.Ordinal) => ("manage", 1.0),
            ("DELETE", _) when path.StartsWith("/api/v0/instances/", StringComparison.Ordinal) => ("destroy", 3.0),
            ("GET", _) when path.StartsWith("/api/v0/instances/", StringComparison.Ordinal) => ("show", 2.0),
            ("GET", "/api/v1/instances/") => ("list", 1.0),
            _ => ("", 0),
        };
        if (endpoint.Length == 0)
        {
            return Refuse(404, """{"success":false,"error":"not_found","msg":"no such endpoint"}""", $"{method} {path} is not in Vast's API");
        }

        var now = DateTimeOffset.UtcNow;
        if (_last.TryGetValue(endpoint, out var last) && (now - last).TotalSeconds < threshold * intervalScale * 0.75)
        {
            return Refuse(429, $"API requests too frequent endpoint threshold={threshold.ToString(CultureInfo.InvariantCulture)}", $"{endpoint} paced too fast") with { ContentType = "text/plain" };
        }

        _last[endpoint] = now;
        return endpoint switch
        {
            "search" => Search(body),
            "create" => Create(path, body),
            "manage" => Manage(path, body),
            "destroy" => Destroy(path),
            "show" => Show(path, query),
            _ => List(query),
        };
    }

    private FakeAnswer Search(string text)
    {
        if (JsonNode.Parse(text) is not JsonObject q)
        {
            return Refuse(400, """{"success":false,"error":"invalid_args","msg":"query must be an object"}""", "search: body");
        }

        string[] plain = ["type", "order", "limit", "allocated_storage"];
        foreach (var (key, value) in q)
        {
            var ok = plain.Contains(key) || (value is JsonObject ops && ops.All(o => o.Key is "eq" or "neq" or "gt" or "gte" or "lt" or "lte" or "in" or "notin"));
            if (!ok)
            {
                return Refuse(400, $$"""{"success":false,"error":"invalid_args","msg":"bad filter {{key}}"}""", $"search: filter {key}");
            }
        }

        if (q["type"]?.GetValue<string>() is not ("on-demand" or "bid" or "reserved"))
        {
            return Refuse(400, """{"success":false,"error":"invalid_args","msg":"type"}""", "search: type");
        }

        var offers = new JsonArray();
        foreach (var (id, o) in NoCapacity ? [] : Offers.OrderBy(o => o.Value.PerHour).ToList())
        {
            offers.Add(new JsonObject
            {
                ["id"] = id, ["ask_contract_id"] = id, ["machine_id"] = id / 10, ["num_gpus"] = 1, ["gpu_name"] = o.Gpu, ["gpu_ram"] = 24564,
                ["dph_total"] = o.PerHour, ["dph_base"] = o.PerHour - 0.02m, ["min_bid"] = o.MinBid, ["storage_cost"] = 0.15m, ["geolocation"] = o.Geo,
                ["reliability"] = 0.995, ["verification"] = "verified", ["rentable"] = true, ["rented"] = false, ["cuda_max_good"] = 12.8,
            });
        }

        return new FakeAnswer(200, new JsonObject { ["offers"] = offers }.ToJsonString());
    }

    private FakeAnswer Create(string path, string text)
    {
        var askText = path["/api/v0/asks/".Length..].TrimEnd('/');
        if (JsonNode.Parse(text) is not JsonObject body || body.Select(p => p.Key).FirstOrDefault(k => !CreateFields.Contains(k)) is { } unknown)
        {
            return Refuse(400, """{"success":false,"error":"invalid_args","msg":"error 400/3467: unknown field"}""", "create: unknown field or not an object");
        }

        if (body["client_id"]?.GetValue<string>() != "me" || body["image"]?.GetValueKind() != JsonValueKind.String || body["env"] is not (null or JsonObject)
            || (body["label"]?.GetValue<string>().Length ?? 0) > 256 || (body["disk"] is { } d && d.GetValue<double>() < 8))
        {
            return Refuse(400, """{"success":false,"error":"invalid_args","msg":"error 400/3467: client_id, image, env object, label, disk"}""", "create: fields");
        }

        if (!long.TryParse(askText, CultureInfo.InvariantCulture, out var ask) || NoCapacity || !Offers.TryGetValue(ask, out var offer))
        {
            return new FakeAnswer(body["cancel_unavail"]?.GetValue<bool>() == true ? 410 : 404,
                $$"""{"success":false,"error":"no_such_ask","msg":"Instance type by id {{askText}} is {{(body["cancel_unavail"]?.GetValue<bool>() == true ? "no longer" : "not")}} available."}""");
        }

        var price = body["price"]?.GetValue<decimal>();
        if (price is < 0.001m or > 128m)
        {
            return new FakeAnswer(400, """{"success":false,"error":"invalid_price","msg":"price must be between 0.001 and 128"}""");
        }

        var env = (body["env"] as JsonObject ?? []).ToDictionary(p => p.Key, p => p.Value!.GetValue<string>(), StringComparer.Ordinal);
        var m = Launch(body["label"]?.GetValue<string>() ?? "", offer.Gpu, spot: price is not null, env, price ?? offer.PerHour);
        m.Bid = price;
        Offers.Remove(ask); // rented: no longer offered
        if (price is { } bid && bid < offer.MinBid)
        {
            Stop(m);
            return new FakeAnswer(400, $$"""{"success":false,"error":"invalid_price","msg":"bid {{bid.ToString(CultureInfo.InvariantCulture)}} is below the minimum; the instance was created stopped","new_contract":{{m.Id}}}""");
        }

        if (FailAfterNextLaunch)
        {
            FailAfterNextLaunch = false;
            return new FakeAnswer(500, "Internal Server Error", "text/plain");
        }

        return new FakeAnswer(200, $$"""{"success":true,"new_contract":{{m.Id}},"instance_api_key":"inst_key_{{m.Id}}"}""");
    }

    private FakeAnswer Manage(string path, string text)
    {
        var id = path["/api/v0/instances/".Length..].TrimEnd('/');
        if (JsonNode.Parse(text) is not JsonObject { Count: 1 } body || body["state"]?.GetValue<string>() is not ("running" or "stopped"))
        {
            return Refuse(400, """{"success":false,"error":"invalid_args","msg":"state must be running or stopped"}""", "manage: body");
        }

        if (!Held.TryGetValue(id, out var m) || m.Phase == FakePhase.Gone)
        {
            return new FakeAnswer(404, """{"success":false,"error":"no_such_instance","msg":"Instance does not exist."}""");
        }

        if (body["state"]!.GetValue<string>() == "stopped")
        {
            Stop(m);
        }
        else
        {
            Start(m);
        }

        return new FakeAnswer(200, """{"success":true}""");
    }

    private FakeAnswer Destroy(string path)
    {
        var id = path["/api/v0/instances/".Length..].TrimEnd('/');
        if (!Held.TryGetValue(id, out var m) || m.Phase == FakePhase.Gone)
        {
            return new FakeAnswer(404, """{"success":false,"error":"no_such_instance","msg":"Instance does not exist."}""");
        }

        Terminate(m);
        return new FakeAnswer(200, """{"success":true,"msg":"destroying instance"}""");
    }

    private FakeAnswer Show(string path, string query)
    {
        if (query != "?owner=me")
        {
            return Refuse(400, """{"success":false,"error":"invalid_args","msg":"owner"}""", "show: query");
        }

        var id = path["/api/v0/instances/".Length..].TrimEnd('/');
        return Held.TryGetValue(id, out var m) && m.Phase != FakePhase.Gone
            ? new FakeAnswer(200, new JsonObject { ["instances"] = Instance(m) }.ToJsonString())
            : new FakeAnswer(200, """{"instances":null}""");
    }

    private FakeAnswer List(string query)
    {
        var args = System.Web.HttpUtility.ParseQueryString(query);
        if (!int.TryParse(args["limit"], CultureInfo.InvariantCulture, out var limit) || limit is < 1 or > 25)
        {
            return Refuse(400, """{"success":false,"error":"invalid_args","msg":"limit 1-25"}""", "list: limit");
        }

        var all = Held.Values.Where(m => m.Phase != FakePhase.Gone).OrderBy(m => m.Id, StringComparer.Ordinal).ToList();
        var after = args["after_token"];
        var page = all.Where(m => after is null || string.CompareOrdinal(m.Id, after) > 0).Take(limit).ToList();
        var more = page.Count == limit && all.Any(m => string.CompareOrdinal(m.Id, page[^1].Id) > 0);
        return new FakeAnswer(200, new JsonObject
        {
            ["success"] = true, ["instances_found"] = page.Count, ["total_instances"] = all.Count,
            ["next_token"] = more ? page[^1].Id : null, ["instances"] = new JsonArray([.. page.Select(m => (JsonNode)Instance(m))]),
        }.ToJsonString());
    }

    private static JsonObject Instance(FakeMachine m)
    {
        var (actual, intended, cur) = m.Phase switch
        {
            FakePhase.Starting => ("loading", "running", "running"),
            FakePhase.Running => ("running", "running", "running"),
            FakePhase.Stopped => ("stopped", m.Preempted ? "stopped" : "stopped", "stopped"),
            _ => ("exited", "stopped", "unloaded"),
        };
        return new JsonObject
        {
            ["id"] = long.Parse(m.Id, CultureInfo.InvariantCulture), ["label"] = m.Name, ["actual_status"] = actual, ["intended_status"] = intended, ["cur_state"] = cur,
            ["next_state"] = cur, ["is_bid"] = m.Bid is not null, ["dph_total"] = m.PerHour, ["gpu_name"] = m.GpuType, ["num_gpus"] = 1,
            ["status_msg"] = m.Preempted ? "outbid" : "", ["extra_env"] = new JsonArray([.. m.Environment.Select(kv => (JsonNode)new JsonArray(kv.Key, kv.Value))]),
        };
    }
}
