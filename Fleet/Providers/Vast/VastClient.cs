using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Actors.Fleet.Providers.Cloud;

namespace Actors.Fleet.Providers.Vast;

/// <summary>Vast.ai's API (facts in ../shared/PROVIDERS.md §2): offers from <c>POST /v0/bundles/</c>
/// (on-demand at <c>dph_total</c>, spot from <c>min_bid</c>), a rent is <c>PUT /v0/asks/{offer}/</c>
/// — spot only with a <c>price</c> (left out, Vast silently rents on demand), and a bid too low
/// still creates a stopped instance with an error: that instance is destroyed here and the rent
/// fails "bid_too_low". Stop and start are <c>PUT /v0/instances/{id}/</c> with a state; destroy is
/// <c>DELETE</c>; one instance is <c>GET /v0/instances/{id}/</c> (an object), the list <c>GET
/// /v1/instances/</c> (25 a page, keyset). Each endpoint is paced to its documented minimum
/// interval; Vast's 429s are plain text without Retry-After (waited out by back-off). An outbid
/// spot instance stops (its disk kept and billed) — our provider sees a stopped machine it wanted
/// running and treats it as preempted.</summary>
public sealed class VastClient(VastOptions options, TimeProvider time, HttpMessageHandler? handler = null) : ICloudApi, IDisposable
{
    /// <summary>Stop keeps the disk (billed); spot by bid; "typically 1–5 minutes" to boot.</summary>
    public static readonly ProviderCapabilities Vast = new(CanStop: true, Spot: true, StoppedBillsStorage: true, TypicalTimeToReady: TimeSpan.FromMinutes(5));

    /// <summary>Vast's documented minimum intervals per endpoint (x-rate-limit), seconds.</summary>
    public static readonly IReadOnlyDictionary<string, TimeSpan> Intervals = new Dictionary<string, TimeSpan>
    {
        ["search"] = TimeSpan.FromSeconds(6), // "10 per minute per IP"
        ["create"] = TimeSpan.FromSeconds(4.5),
        ["manage"] = TimeSpan.FromSeconds(1),
        ["destroy"] = TimeSpan.FromSeconds(3),
        ["show"] = TimeSpan.FromSeconds(2),
        ["list"] = TimeSpan.FromSeconds(1),
    };

    private readonly CloudHttp _http = new("Vast.ai", options.BaseUrl, options.ResolveApiKey(), options.TimeoutSeconds, options.Pacing(Scaled(options)), time, handler);

    public string Cloud => "vast";

    public string NamePrefix => options.NamePrefix;

    public ProviderCapabilities Capabilities => Vast;

    public CloudHttp Http => _http;

    /// <summary>Every rentable offer twice: on demand at dph_total, spot from min_bid; the region
    /// is the host's country code; stopped costs the disk at the host's storage price.</summary>
    public async Task<IReadOnlyList<CloudOffer>> OffersAsync(CancellationToken cancellationToken = default)
    {
        var query = new JsonObject
        {
            ["verified"] = new JsonObject { ["eq"] = true },
            ["external"] = new JsonObject { ["eq"] = false },
            ["rentable"] = new JsonObject { ["eq"] = true },
            ["rented"] = new JsonObject { ["eq"] = false },
            ["num_gpus"] = new JsonObject { ["eq"] = options.GpuCount },
            ["reliability"] = new JsonObject { ["gte"] = options.MinReliability },
            ["type"] = "on-demand",
            ["order"] = new JsonArray(new JsonArray("dph_total", "asc")),
            ["limit"] = options.OffersRead,
            ["allocated_storage"] = options.DiskGb,
        };
        var json = await SendAsync(HttpMethod.Post, "v0/bundles/", query, "search", cancellationToken);
        var offers = new List<CloudOffer>();
        foreach (var o in json["offers"]?.AsArray().Select(o => o!) ?? [])
        {
            var id = o["id"]!.GetValue<long>().ToString(CultureInfo.InvariantCulture);
            var gpu = o["gpu_name"]?.GetValue<string>() ?? "";
            var geo = o["geolocation"]?.GetValue<string>() ?? "";
            var region = geo.Length >= 2 ? geo[^2..] : geo;
            var stopped = Math.Round((o["storage_cost"]?.GetValue<decimal>() ?? 0) * options.DiskGb / 730m, 4);
            var rentable = o["rentable"]?.GetValue<bool>() != false;
            offers.Add(new CloudOffer(Cloud, id, gpu, o["num_gpus"]?.GetValue<int>() ?? 1, o["dph_total"]!.GetValue<decimal>(), stopped, false, region, rentable));
            if (o["min_bid"]?.GetValue<decimal>() is { } bid and > 0)
            {
                offers.Add(new CloudOffer(Cloud, id, gpu, o["num_gpus"]?.GetValue<int>() ?? 1, bid, stopped, true, region, rentable) { MinBid = bid });
            }
        }

        return [.. offers.OrderBy(o => o.PerHour)];
    }

    public async Task<string> LaunchAsync(CloudLaunch launch, CancellationToken cancellationToken = default)
    {
        options.EnsureOurs(launch.Name, 256);
        var env = new JsonObject();
        foreach (var (k, v) in launch.Startup.Environment.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            env[k] = v;
        }

        var body = new JsonObject
        {
            ["client_id"] = "me",
            ["image"] = launch.Startup.Image,
            ["disk"] = options.DiskGb,
            ["label"] = launch.Name,
            ["runtype"] = "args",
            ["env"] = env,
            ["target_state"] = "running",
            ["cancel_unavail"] = true,
        };
        if (launch.Bid is { } bid)
        {
            body["price"] = bid; // the bid per machine: present = interruptible
        }

        var path = $"v0/asks/{Uri.EscapeDataString(launch.Offer.OfferId)}/";
        var answer = await _http.SendAsync(HttpMethod.Put, path, body, "create", cancellationToken);
        var json = answer.Json();
        var contract = json?["new_contract"]?.GetValue<long>();
        if (answer.Ok && json?["success"]?.GetValue<bool>() != false && contract is { } id)
        {
            return id.ToString(CultureInfo.InvariantCulture);
        }

        if (contract is { } stopped)
        {
            // A bid too low: Vast created the instance stopped and said no. Ours to destroy.
            var machine = new CloudMachine(stopped.ToString(CultureInfo.InvariantCulture), launch.Name, CloudMachineState.Stopped, true, 0, "created stopped: bid too low");
            await TerminateAsync(machine, cancellationToken);
            throw new ProviderException("bid_too_low", _http.Redact($"Vast.ai created instance {stopped} stopped (bid ${launch.Bid}/h too low: {Said(answer)}) and it was destroyed"));
        }

        throw Error(answer, "PUT /v0/asks/{id}/");
    }

    public Task StartAsync(CloudMachine machine, CancellationToken cancellationToken = default) => StateAsync(machine, "running", cancellationToken);

    public Task StopAsync(CloudMachine machine, CancellationToken cancellationToken = default) => StateAsync(machine, "stopped", cancellationToken);

    public async Task TerminateAsync(CloudMachine machine, CancellationToken cancellationToken = default)
    {
        options.EnsureOurs(machine);
        try
        {
            await SendAsync(HttpMethod.Delete, $"v0/instances/{Uri.EscapeDataString(machine.Id)}/", null, "destroy", cancellationToken);
        }
        catch (ProviderException e) when (e.Code == "not_found")
        {
            // gone already (no_such_instance)
        }
    }

    public async Task<CloudMachine?> GetAsync(string id, CancellationToken cancellationToken = default)
    {
        try
        {
            var json = await SendAsync(HttpMethod.Get, $"v0/instances/{Uri.EscapeDataString(id)}/?owner=me", null, "show", cancellationToken);
            return json["instances"] is JsonObject instance ? Machine(instance) : null;
        }
        catch (ProviderException e) when (e.Code == "not_found")
        {
            return null;
        }
    }

    /// <summary>Every page of <c>/v1/instances/</c>, ours only.</summary>
    public async Task<IReadOnlyList<CloudMachine>> ListAsync(CancellationToken cancellationToken = default)
    {
        var machines = new List<CloudMachine>();
        string? token = null;
        do
        {
            var path = "v1/instances/?limit=25" + (token is null ? "" : "&after_token=" + Uri.EscapeDataString(token));
            var json = await SendAsync(HttpMethod.Get, path, null, "list", cancellationToken);
            machines.AddRange(json["instances"]?.AsArray().Select(i => Machine(i!)) ?? []);
            token = json["next_token"]?.GetValue<string>();
        }
        while (!string.IsNullOrEmpty(token));
        return [.. machines.Where(m => m.Name.StartsWith(options.NamePrefix, StringComparison.Ordinal))];
    }

    public void Dispose() => _http.Dispose();

    private async Task StateAsync(CloudMachine machine, string state, CancellationToken cancellationToken)
    {
        options.EnsureOurs(machine);
        await SendAsync(HttpMethod.Put, $"v0/instances/{Uri.EscapeDataString(machine.Id)}/", new JsonObject { ["state"] = state }, "manage", cancellationToken);
    }

    /// <summary>actual_status: null/created/loading/rebooting → starting; running (stopping when we
    /// asked it to stop); stopped/frozen → stopped (an outbid spot instance too); exited, unknown,
    /// offline → failed (Vast: they never reach running); cur_state unloaded → gone.</summary>
    private static CloudMachine Machine(JsonNode i)
    {
        var actual = i["actual_status"]?.GetValue<string>();
        var intended = i["intended_status"]?.GetValue<string>();
        var state = (i["cur_state"]?.GetValue<string>(), actual) switch
        {
            ("unloaded", _) => CloudMachineState.Gone,
            (_, "running") when intended == "stopped" => CloudMachineState.Stopping,
            (_, "running") => CloudMachineState.Running,
            (_, "stopped" or "frozen") => CloudMachineState.Stopped,
            (_, "exited" or "unknown" or "offline") => CloudMachineState.Failed,
            _ => CloudMachineState.Starting,
        };
        return new CloudMachine(i["id"]!.GetValue<long>().ToString(CultureInfo.InvariantCulture), i["label"]?.GetValue<string>() ?? "", state,
            i["is_bid"]?.GetValue<bool>() == true, i["dph_total"]?.GetValue<decimal>() ?? 0, $"{actual ?? "provisioning"} (intended {intended ?? "?"})");
    }

    private async Task<JsonNode> SendAsync(HttpMethod method, string path, JsonObject? body, string endpoint, CancellationToken cancellationToken)
    {
        var answer = await _http.SendAsync(method, path, body, endpoint, cancellationToken);
        var json = answer.Json();
        return answer.Ok && json is not null && json["success"]?.GetValue<bool>() != false ? json : throw Error(answer, $"{method} /{CloudHttp.Route(path)}");
    }

    /// <summary>Vast's error (<c>{"success":false,"error","msg"}</c>, or plain text) as ours.</summary>
    private ProviderException Error(CloudAnswer answer, string what)
    {
        var json = answer.Json();
        var error = json?["error"]?.GetValueKind() == JsonValueKind.String ? json["error"]!.GetValue<string>() : null;
        var code = error switch
        {
            "no_such_ask" => "unavailable",
            "invalid_price" => "bid_too_low",
            "no_such_instance" or "not_found" => "not_found",
            "auth_error" => "unauthorized",
            "missing_billing" => "quota",
            "invalid_args" => "invalid_request",
            _ => answer.Status is HttpStatusCode.Gone ? "unavailable" : CloudErrors.ByStatus(answer.Status),
        };
        return new ProviderException(code, _http.Redact($"Vast.ai answered {(int)answer.Status} to {what}: {error ?? "no code"}: {Said(answer)}"));
    }

    private static string Said(CloudAnswer answer) =>
        answer.Json() is JsonObject json ? json["msg"]?.ToString() ?? json["message"]?.ToString() ?? json["detail"]?.ToString() ?? answer.Excerpt : answer.Excerpt;

    /// <summary>The documented intervals (scaled), with 10 % to spare: Vast measures them on
    /// arrival, and two requests sent exactly an interval apart can arrive closer.</summary>
    private static Dictionary<string, TimeSpan> Scaled(VastOptions options) =>
        Intervals.ToDictionary(kv => kv.Key, kv => kv.Value * options.EndpointIntervalScale * 1.1);
}
