using System.Net;
using System.Text.Json.Nodes;
using Actors.Fleet.Providers.Cloud;

namespace Actors.Fleet.Providers.Lambda;

/// <summary>Lambda Cloud's public API, <c>/api/v1</c>, as its OpenAPI (1.5.3) and docs describe it
/// (facts in ../shared/PROVIDERS.md §3): instance types and capacity, launch (a VM: our silo image
/// runs from its cloud-init <c>user_data</c>), terminate, one instance, the list. Paced as Lambda
/// asks (one launch per <see cref="LambdaCloudOptions.LaunchIntervalSeconds"/>, about a request a
/// second otherwise, 429s waited out); errors are Lambda's <c>{"error":{"code","message"}}</c>
/// mapped to <see cref="ProviderException"/> codes by their code, never by their text. Lambda
/// cannot stop a machine and sells no spot (<see cref="Capabilities"/>).</summary>
public sealed class LambdaCloudClient(LambdaCloudOptions options, TimeProvider time, HttpMessageHandler? handler = null) : ICloudApi, IDisposable
{
    /// <summary>No stop or resume, no spot; "a few minutes" to boot, A100s up to 15.</summary>
    public static readonly ProviderCapabilities Lambda = new(CanStop: false, Spot: false, StoppedBillsStorage: false, TypicalTimeToReady: TimeSpan.FromMinutes(5));

    private readonly CloudHttp _http = new("Lambda", options.BaseUrl, options.ResolveApiKey(), options.TimeoutSeconds,
        options.Pacing(new Dictionary<string, TimeSpan> { ["launch"] = TimeSpan.FromSeconds(options.LaunchIntervalSeconds) }), time, handler);

    public string Cloud => "lambda";

    public string NamePrefix => options.NamePrefix;

    public ProviderCapabilities Capabilities => Lambda;

    public CloudHttp Http => _http;

    /// <summary>One offer per instance type and region with capacity now (one unavailable line
    /// for a type without any); running and "stopped" cost the same (there is no stopped).</summary>
    public async Task<IReadOnlyList<CloudOffer>> OffersAsync(CancellationToken cancellationToken = default)
    {
        var data = await SendAsync(HttpMethod.Get, "instance-types", null, "read", cancellationToken);
        return [.. data.AsObject().SelectMany(p =>
        {
            var type = p.Value!["instance_type"]!;
            var name = type["name"]!.GetValue<string>();
            var gpus = type["specs"]?["gpus"]?.GetValue<int>() ?? 0;
            var perHour = type["price_cents_per_hour"]!.GetValue<int>() / 100m;
            var regions = p.Value!["regions_with_capacity_available"]?.AsArray().Select(r => r!["name"]!.GetValue<string>()).ToList() ?? [];
            return regions.Count == 0
                ? [new CloudOffer(Cloud, name, name, gpus, perHour, perHour, false, "", false)]
                : regions.Select(r => new CloudOffer(Cloud, name, name, gpus, perHour, perHour, false, r, true));
        }).OrderBy(o => o.PerHour).ThenBy(o => o.Region, StringComparer.Ordinal)];
    }

    public async Task<string> LaunchAsync(CloudLaunch launch, CancellationToken cancellationToken = default)
    {
        options.EnsureOurs(launch.Name, 64);
        var body = new JsonObject
        {
            ["region_name"] = launch.Offer.Region,
            ["instance_type_name"] = launch.Offer.OfferId,
            ["ssh_key_names"] = new JsonArray(options.SshKeyName),
            ["quantity"] = 1,
            ["name"] = launch.Name,
            ["user_data"] = launch.Startup.CloudInit(),
        };
        var data = await SendAsync(HttpMethod.Post, "instance-operations/launch", body, "launch", cancellationToken);
        return data["instance_ids"]?.AsArray().FirstOrDefault()?.GetValue<string>()
            ?? throw new ProviderException("failed", $"Lambda launched no instance of {launch.Offer.OfferId} in {launch.Offer.Region}");
    }

    public Task StartAsync(CloudMachine machine, CancellationToken cancellationToken = default) =>
        throw new ProviderException("not_supported", "Lambda cannot stop a machine, so none is ever started again");

    public Task StopAsync(CloudMachine machine, CancellationToken cancellationToken = default) =>
        throw new ProviderException("not_supported", "Lambda cannot stop a machine (it runs, billed, or is gone): terminate it");

    public async Task TerminateAsync(CloudMachine machine, CancellationToken cancellationToken = default)
    {
        options.EnsureOurs(machine);
        try
        {
            await SendAsync(HttpMethod.Post, "instance-operations/terminate", new JsonObject { ["instance_ids"] = new JsonArray(machine.Id) }, "write", cancellationToken);
        }
        catch (ProviderException e) when (e.Code == "not_found")
        {
            // gone already
        }
    }

    public async Task<CloudMachine?> GetAsync(string id, CancellationToken cancellationToken = default)
    {
        try
        {
            return Machine(await SendAsync(HttpMethod.Get, "instances/" + Uri.EscapeDataString(id), null, "read", cancellationToken));
        }
        catch (ProviderException e) when (e.Code == "not_found")
        {
            return null;
        }
    }

    public async Task<IReadOnlyList<CloudMachine>> ListAsync(CancellationToken cancellationToken = default)
    {
        var data = await SendAsync(HttpMethod.Get, "instances", null, "read", cancellationToken);
        return [.. data.AsArray().Select(m => Machine(m!)).Where(m => m.Name.StartsWith(options.NamePrefix, StringComparison.Ordinal))];
    }

    public void Dispose() => _http.Dispose();

    /// <summary>booting → starting; active → running (not joined: only its silo can say that);
    /// unhealthy → failed; terminating, terminated → gone.</summary>
    private static CloudMachine Machine(JsonNode m)
    {
        var status = m["status"]!.GetValue<string>();
        var state = status switch
        {
            "active" => CloudMachineState.Running,
            "terminating" => CloudMachineState.Terminating,
            "terminated" or "preempted" => CloudMachineState.Gone,
            "unhealthy" => CloudMachineState.Failed,
            _ => CloudMachineState.Starting,
        };
        return new CloudMachine(m["id"]!.GetValue<string>(), m["name"]?.GetValue<string>() ?? "", state, false,
            (m["instance_type"]?["price_cents_per_hour"]?.GetValue<int>() ?? 0) / 100m, status);
    }

    /// <summary>One request; the <c>data</c> of its answer, or Lambda's error as ours.</summary>
    private async Task<JsonNode> SendAsync(HttpMethod method, string path, JsonObject? body, string endpoint, CancellationToken cancellationToken)
    {
        var answer = await _http.SendAsync(method, path, body, endpoint, cancellationToken);
        return answer.Ok
            ? answer.Json()?["data"] ?? throw new ProviderException("failed", $"Lambda's answer to {method} /{path} has no data")
            : throw Error(answer, method, path);
    }

    /// <summary>Lambda's error by its code (its HTTP status where the body has none).</summary>
    private ProviderException Error(CloudAnswer answer, HttpMethod method, string path)
    {
        var error = answer.Json()?["error"];
        var code = error?["code"]?.GetValue<string>();
        var ours = code switch
        {
            "instance-operations/launch/insufficient-capacity" => "unavailable",
            "global/invalid-api-key" => "unauthorized",
            "global/account-inactive" or "global/forbidden" => "forbidden",
            "global/quota-exceeded" => "quota",
            "global/object-does-not-exist" or "global/not-found" => "not_found",
            "global/invalid-parameters" or "global/invalid-address" => "invalid_request",
            _ => CloudErrors.ByStatus(answer.Status),
        };
        var said = error?["message"]?.GetValue<string>() ?? answer.Excerpt;
        return new ProviderException(ours, _http.Redact($"Lambda answered {(int)answer.Status} to {method} /{path}: {code ?? "no code"}: {said}"));
    }
}
