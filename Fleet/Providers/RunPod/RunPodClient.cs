using System.Net;
using System.Text.Json.Nodes;
using Actors.Fleet.Providers.Cloud;

namespace Actors.Fleet.Providers.RunPod;

/// <summary>RunPod, over the two APIs it has now (facts in ../shared/PROVIDERS.md §1; REST v1 was
/// retired on 2026-11-15). <b>GraphQL</b> for everything that changes a pod and for offers:
/// prices, spot prices and stock are only there (<c>gpuTypes</c> with <c>lowestPrice</c>), spot
/// exists only there (<c>podRentInterruptable</c> with <c>bidPerGpu</c>, resumed with
/// <c>podBidResume</c>), and using it for on-demand create, stop, resume and terminate too keeps one
/// pod's changes in one API. <b>REST v2</b> for reading pods (<c>GET /v2/pods</c>, <c>/v2/pods/{id}</c>),
/// the calls made every few seconds: its <c>status</c> says PROVISIONING/STARTING apart from RUNNING
/// (GraphQL's <c>desiredStatus</c> is what was asked, not what is), its errors are problem+json,
/// and its 429s carry Retry-After. GraphQL answers most errors with HTTP 200 and an <c>errors</c>
/// array: branched on here. RunPod's "running" is not ready (the image may still be pulling).</summary>
public sealed class RunPodClient(RunPodOptions options, TimeProvider time, HttpMessageHandler? handler = null) : ICloudApi, IDisposable
{
    /// <summary>Stop keeps the volume (billed); spot through GraphQL; ~30 s with a cached image, minutes for a cold pull.</summary>
    public static readonly ProviderCapabilities RunPod = new(CanStop: true, Spot: true, StoppedBillsStorage: true, TypicalTimeToReady: TimeSpan.FromMinutes(4));

    private const string NoCapacity = "There are no longer any instances available";
    private readonly CloudHttp _http = new("RunPod", options.BaseUrl, options.ResolveApiKey(), options.TimeoutSeconds, options.Pacing(), time, handler);
    private readonly Dictionary<string, decimal> _bids = new(StringComparer.Ordinal);

    public string Cloud => "runpod";

    public string NamePrefix => options.NamePrefix;

    public ProviderCapabilities Capabilities => RunPod;

    public CloudHttp Http => _http;

    /// <summary>Per GPU type an on-demand line (its price for <see cref="RunPodOptions.CloudType"/>)
    /// and a spot line (the minimum bid), available while stock is not None.</summary>
    public async Task<IReadOnlyList<CloudOffer>> OffersAsync(CancellationToken cancellationToken = default)
    {
        var secure = options.CloudType.Equals("SECURE", StringComparison.OrdinalIgnoreCase);
        var data = await GraphQlAsync(
            "query GpuTypes($lowest: GpuLowestPriceInput) { gpuTypes { id displayName memoryInGb securePrice communityPrice secureSpotPrice communitySpotPrice lowestPrice(input: $lowest) { stockStatus minimumBidPrice uninterruptablePrice } } }",
            new JsonObject { ["lowest"] = new JsonObject { ["gpuCount"] = options.GpuCount, ["secureCloud"] = secure } }, cancellationToken);
        var offers = new List<CloudOffer>();
        foreach (var g in data["gpuTypes"]!.AsArray().Select(g => g!))
        {
            var id = g["id"]!.GetValue<string>();
            var lowest = g["lowestPrice"];
            var stock = lowest?["stockStatus"]?.GetValue<string>();
            var available = stock is "High" or "Medium" or "Low";
            var onDemand = lowest?["uninterruptablePrice"]?.GetValue<decimal>() ?? (g[secure ? "securePrice" : "communityPrice"]?.GetValue<decimal>() ?? 0) * options.GpuCount;
            var spot = lowest?["minimumBidPrice"]?.GetValue<decimal>() ?? (g[secure ? "secureSpotPrice" : "communitySpotPrice"]?.GetValue<decimal>() ?? 0) * options.GpuCount;
            if (onDemand > 0)
            {
                offers.Add(new CloudOffer(Cloud, id, id, options.GpuCount, onDemand, options.StoppedPerHour, false, "", available));
            }

            if (spot > 0)
            {
                offers.Add(new CloudOffer(Cloud, id, id, options.GpuCount, spot, options.StoppedPerHour, true, "", available) { MinBid = spot });
            }
        }

        return [.. offers.OrderBy(o => o.PerHour)];
    }

    public async Task<string> LaunchAsync(CloudLaunch launch, CancellationToken cancellationToken = default)
    {
        options.EnsureOurs(launch.Name, 191);
        var input = new JsonObject
        {
            ["name"] = launch.Name,
            ["imageName"] = launch.Startup.Image,
            ["gpuTypeId"] = launch.Offer.OfferId,
            ["gpuCount"] = options.GpuCount,
            ["cloudType"] = options.CloudType.ToUpperInvariant(),
            ["containerDiskInGb"] = options.ContainerDiskGb,
            ["volumeInGb"] = options.VolumeGb,
            ["volumeMountPath"] = "/data",
            ["ports"] = options.Ports,
            ["env"] = new JsonArray([.. launch.Startup.Environment.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => (JsonNode)new JsonObject { ["key"] = kv.Key, ["value"] = kv.Value })]),
        };
        string mutation;
        if (launch.Bid is { } bid)
        {
            input["bidPerGpu"] = Math.Round(bid / options.GpuCount, 4);
            mutation = "mutation Rent($input: PodRentInterruptableInput!) { podRentInterruptable(input: $input) { id desiredStatus } }";
        }
        else
        {
            mutation = "mutation Deploy($input: PodFindAndDeployOnDemandInput) { podFindAndDeployOnDemand(input: $input) { id desiredStatus } }";
        }

        var data = await GraphQlAsync(mutation, new JsonObject { ["input"] = input }, cancellationToken);
        var pod = (launch.Bid is null ? data["podFindAndDeployOnDemand"] : data["podRentInterruptable"])?["id"]?.GetValue<string>()
            ?? throw new ProviderException("failed", $"RunPod created no pod of {launch.Offer.OfferId}");
        if (launch.Bid is { } placed)
        {
            _bids[pod] = placed;
        }

        return pod;
    }

    /// <summary><c>podResume</c>; a spot pod is resumed with its bid (<c>podBidResume</c>).</summary>
    public async Task StartAsync(CloudMachine machine, CancellationToken cancellationToken = default)
    {
        options.EnsureOurs(machine);
        if (machine.Spot)
        {
            var bid = _bids.TryGetValue(machine.Id, out var b) ? b : machine.PerHour;
            await GraphQlAsync("mutation BidResume($input: PodBidResumeInput!) { podBidResume(input: $input) { id desiredStatus } }",
                new JsonObject { ["input"] = new JsonObject { ["podId"] = machine.Id, ["bidPerGpu"] = Math.Round(bid / options.GpuCount, 4), ["gpuCount"] = options.GpuCount } }, cancellationToken);
            return;
        }

        await GraphQlAsync("mutation Resume($input: PodResumeInput!) { podResume(input: $input) { id desiredStatus } }",
            new JsonObject { ["input"] = new JsonObject { ["podId"] = machine.Id, ["gpuCount"] = options.GpuCount } }, cancellationToken);
    }

    public async Task StopAsync(CloudMachine machine, CancellationToken cancellationToken = default)
    {
        options.EnsureOurs(machine);
        await GraphQlAsync("mutation Stop($input: PodStopInput!) { podStop(input: $input) { id desiredStatus } }",
            new JsonObject { ["input"] = new JsonObject { ["podId"] = machine.Id } }, cancellationToken);
    }

    public async Task TerminateAsync(CloudMachine machine, CancellationToken cancellationToken = default)
    {
        options.EnsureOurs(machine);
        try
        {
            await GraphQlAsync("mutation Terminate($input: PodTerminateInput!) { podTerminate(input: $input) }",
                new JsonObject { ["input"] = new JsonObject { ["podId"] = machine.Id } }, cancellationToken);
        }
        catch (ProviderException e) when (e.Code == "not_found")
        {
            // gone already ("pod not found to terminate")
        }
    }

    public async Task<CloudMachine?> GetAsync(string id, CancellationToken cancellationToken = default)
    {
        var answer = await _http.SendAsync(HttpMethod.Get, "v2/pods/" + Uri.EscapeDataString(id), null, "read", cancellationToken);
        return answer.Status == HttpStatusCode.NotFound ? null
            : answer.Ok ? Machine(answer.Json() ?? throw Unreadable(answer, "GET /v2/pods/{id}"))
            : throw RestError(answer, "GET /v2/pods/{id}");
    }

    public async Task<IReadOnlyList<CloudMachine>> ListAsync(CancellationToken cancellationToken = default)
    {
        var answer = await _http.SendAsync(HttpMethod.Get, "v2/pods", null, "read", cancellationToken);
        var pods = answer.Ok ? answer.Json()?["pods"]?.AsArray() ?? throw Unreadable(answer, "GET /v2/pods") : throw RestError(answer, "GET /v2/pods");
        return [.. pods.Select(p => Machine(p!)).Where(m => m.Name.StartsWith(options.NamePrefix, StringComparison.Ordinal))];
    }

    public void Dispose() => _http.Dispose();

    /// <summary>v2's status: PROVISIONING/STARTING → starting, RUNNING, EXITED → stopped, ERROR → failed, TERMINATED → gone.</summary>
    private CloudMachine Machine(JsonNode p)
    {
        var status = p["status"]?.GetValue<string>() ?? "";
        var state = status switch
        {
            "RUNNING" => CloudMachineState.Running,
            "EXITED" => CloudMachineState.Stopped,
            "ERROR" => CloudMachineState.Failed,
            "TERMINATED" => CloudMachineState.Gone,
            _ => CloudMachineState.Starting,
        };
        var id = p["id"]!.GetValue<string>();
        return new CloudMachine(id, p["name"]?.GetValue<string>() ?? "", state, _bids.ContainsKey(id) || p["interruptible"]?.GetValue<bool>() == true,
            p["cost"]?.GetValue<decimal>() ?? 0, status);
    }

    /// <summary>A GraphQL call: its <c>data</c>, or its <c>errors</c> (sent with HTTP 200 or 400) as ours.</summary>
    private async Task<JsonNode> GraphQlAsync(string query, JsonObject variables, CancellationToken cancellationToken)
    {
        var answer = await _http.SendAsync(HttpMethod.Post, "graphql", new JsonObject { ["query"] = query, ["variables"] = variables }, "graphql", cancellationToken);
        var json = answer.Json();
        var operation = query.Split('(', '{')[0].Trim();
        if (json?["errors"] is JsonArray { Count: > 0 } errors)
        {
            var message = errors[0]?["message"]?.GetValue<string>() ?? "";
            var code = message switch
            {
                _ when message.StartsWith(NoCapacity, StringComparison.Ordinal) || message.Contains("not enough free GPUs", StringComparison.OrdinalIgnoreCase) => "unavailable",
                _ when message.Contains("not found", StringComparison.OrdinalIgnoreCase) => "not_found",
                _ when message.Contains("Something went wrong", StringComparison.Ordinal) => "failed",
                _ when answer.Status == HttpStatusCode.OK => "invalid_request",
                _ => CloudErrors.ByStatus(answer.Status),
            };
            return ThrowNode(new ProviderException(code, _http.Redact($"RunPod answered {operation}: {message}")));
        }

        return answer.Ok && json?["data"] is JsonObject data ? data
            : throw new ProviderException(CloudErrors.ByStatus(answer.Status), _http.Redact($"RunPod answered {(int)answer.Status} to {operation}: {answer.Excerpt}"));
    }

    private static JsonNode ThrowNode(ProviderException e) => throw e;

    /// <summary>A v2 problem+json error as ours: 400 may be no capacity (only its detail says so).</summary>
    private ProviderException RestError(CloudAnswer answer, string what)
    {
        var json = answer.Json();
        var detail = json?["detail"]?.GetValue<string>() ?? json?["title"]?.GetValue<string>() ?? answer.Excerpt;
        return new ProviderException(CloudErrors.ByStatus(answer.Status), _http.Redact($"RunPod answered {(int)answer.Status} to {what}: {detail}"));
    }

    private ProviderException Unreadable(CloudAnswer answer, string what) =>
        new("failed", _http.Redact($"RunPod's answer to {what} is not what its API documents: {answer.Excerpt}"));
}
