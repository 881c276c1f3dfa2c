using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Actors.Fleet.Providers.Lambda;

/// <summary>Lambda Cloud's public API, <c>/api/v1</c>, as its OpenAPI (1.5.3) and docs describe it
/// (facts in ../shared/PROVIDERS.md §3): instance types and capacity, launch, terminate, one
/// instance, the list. Paced as Lambda asks (one launch per <see cref="LambdaCloudOptions.LaunchIntervalSeconds"/>,
/// about a request a second otherwise, 429s waited out); errors are Lambda's
/// <c>{"error":{"code","message"}}</c> mapped to <see cref="ProviderException"/> codes by their
/// code, never by their text; the API key appears in no message. Launch is not idempotent: a
/// launch that fails without a definite answer (a 5xx, a time-out) is looked up by its name
/// before anyone tries again. Lambda cannot stop a machine (<see cref="Capabilities"/>).</summary>
public sealed class LambdaCloudClient : IDisposable
{
    /// <summary>No stop or resume, no spot; "a few minutes" to boot, A100s up to 15.</summary>
    public static readonly ProviderCapabilities Capabilities = new(CanStop: false, Spot: false, StoppedBillsStorage: false, TypicalTimeToReady: TimeSpan.FromMinutes(5));

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly HttpClient _http;
    private readonly LambdaCloudOptions _options;
    private readonly TimeProvider _time;
    private readonly string _key;
    private readonly SemaphoreSlim _turn = new(1, 1);
    private DateTimeOffset _lastRequest = DateTimeOffset.MinValue;
    private DateTimeOffset _lastLaunch = DateTimeOffset.MinValue;

    public LambdaCloudClient(LambdaCloudOptions options, TimeProvider time, HttpMessageHandler? handler = null)
    {
        _options = options;
        _time = time;
        _key = options.ResolveApiKey();
        _http = new HttpClient(handler ?? new SocketsHttpHandler(), disposeHandler: handler is null)
        {
            BaseAddress = new Uri(options.BaseUrl.TrimEnd('/') + "/"),
            Timeout = TimeSpan.FromSeconds(options.TimeoutSeconds),
        };
    }

    /// <summary>Every instance type with its $/h and the regions that have capacity now.</summary>
    public async Task<IReadOnlyList<LambdaOffer>> OffersAsync(CancellationToken cancellationToken = default)
    {
        var data = await SendAsync(HttpMethod.Get, "instance-types", null, launch: false, cancellationToken);
        return [.. data.AsObject().Select(p =>
        {
            var type = p.Value!["instance_type"]!;
            var regions = p.Value!["regions_with_capacity_available"]?.AsArray().Select(r => r!["name"]!.GetValue<string>()).ToList() ?? [];
            return new LambdaOffer(type["name"]!.GetValue<string>(), type["gpu_description"]?.GetValue<string>() ?? "",
                type["specs"]?["gpus"]?.GetValue<int>() ?? 0, type["price_cents_per_hour"]!.GetValue<int>() / 100m, regions);
        }).OrderBy(o => o.PerHour)];
    }

    /// <summary>Launches one machine named <paramref name="name"/> (it must carry the prefix);
    /// returns its id. "unavailable" when the type has no capacity in the region.</summary>
    public async Task<string> LaunchAsync(string name, string instanceType, string region, string? userData = null, CancellationToken cancellationToken = default)
    {
        if (!name.StartsWith(_options.NamePrefix, StringComparison.Ordinal) || name.Length > 64)
        {
            throw new ProviderException("invalid_name", $"a machine we launch is named '{_options.NamePrefix}…' in at most 64 characters; got '{name}'");
        }

        var body = new JsonObject
        {
            ["region_name"] = region,
            ["instance_type_name"] = instanceType,
            ["ssh_key_names"] = new JsonArray(_options.SshKeyName),
            ["quantity"] = 1,
            ["name"] = name,
        };
        if (userData is not null)
        {
            body["user_data"] = userData;
        }

        try
        {
            var data = await SendAsync(HttpMethod.Post, "instance-operations/launch", body, launch: true, cancellationToken);
            return data["instance_ids"]?.AsArray().FirstOrDefault()?.GetValue<string>()
                ?? throw new ProviderException("failed", $"Lambda launched no instance of {instanceType} in {region}");
        }
        catch (ProviderException e) when (e.Code is "failed" or "timeout")
        {
            // No definite answer: it may have launched. Ours by name, before anyone retries.
            if (await FindByNameAsync(name, cancellationToken) is { } launched)
            {
                return launched.Id;
            }

            throw;
        }
    }

    /// <summary>Terminates a machine of ours; true if Lambda took it (or it was gone already).</summary>
    public async Task<bool> TerminateAsync(string id, CancellationToken cancellationToken = default)
    {
        if (await GetAsync(id, cancellationToken) is not { } machine || machine.Gone)
        {
            return true;
        }

        if (!machine.Name.StartsWith(_options.NamePrefix, StringComparison.Ordinal))
        {
            throw new ProviderException("not_ours", $"instance {id} is named '{machine.Name}', not '{_options.NamePrefix}…': it is not this cluster's and is left alone");
        }

        var data = await SendAsync(HttpMethod.Post, "instance-operations/terminate", new JsonObject { ["instance_ids"] = new JsonArray(id) }, launch: false, cancellationToken);
        return data["terminated_instances"]?.AsArray().Any(t => t?["id"]?.GetValue<string>() == id) ?? false;
    }

    /// <summary>One machine, or null when Lambda does not know it.</summary>
    public async Task<LambdaMachine?> GetAsync(string id, CancellationToken cancellationToken = default)
    {
        try
        {
            return Machine(await SendAsync(HttpMethod.Get, "instances/" + Uri.EscapeDataString(id), null, launch: false, cancellationToken));
        }
        catch (ProviderException e) when (e.Code == "not_found")
        {
            return null;
        }
    }

    /// <summary>This cluster's machines: those whose name carries the prefix, nothing else.</summary>
    public async Task<IReadOnlyList<LambdaMachine>> ListOursAsync(CancellationToken cancellationToken = default)
    {
        var data = await SendAsync(HttpMethod.Get, "instances", null, launch: false, cancellationToken);
        return [.. data.AsArray().Select(m => Machine(m!)).Where(m => m.Name.StartsWith(_options.NamePrefix, StringComparison.Ordinal))];
    }

    public void Dispose()
    {
        _http.Dispose();
        _turn.Dispose();
    }

    private async Task<LambdaMachine?> FindByNameAsync(string name, CancellationToken cancellationToken) =>
        (await ListOursAsync(cancellationToken)).FirstOrDefault(m => m.Name == name && !m.Gone);

    private static LambdaMachine Machine(JsonNode m) => new(
        m["id"]!.GetValue<string>(), m["name"]?.GetValue<string>() ?? "", m["status"]!.GetValue<string>(), m["ip"]?.GetValue<string>(),
        m["instance_type"]?["name"]?.GetValue<string>() ?? "", m["region"]?["name"]?.GetValue<string>() ?? "",
        (m["instance_type"]?["price_cents_per_hour"]?.GetValue<int>() ?? 0) / 100m);

    /// <summary>One request in its turn (paced), 429s waited out; the <c>data</c> of the answer.</summary>
    private async Task<JsonNode> SendAsync(HttpMethod method, string path, JsonObject? body, bool launch, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            HttpResponseMessage response;
            await _turn.WaitAsync(cancellationToken);
            try
            {
                await PaceAsync(launch, cancellationToken);
                using var request = new HttpRequestMessage(method, path);
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _key);
                if (body is not null)
                {
                    request.Content = JsonContent.Create(body, options: Json);
                }

                try
                {
                    response = await _http.SendAsync(request, cancellationToken);
                }
                catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new ProviderException("timeout", $"Lambda did not answer {method} /{Redact(path)} in {_options.TimeoutSeconds:0} s", e);
                }
                catch (HttpRequestException e)
                {
                    throw new ProviderException("failed", $"Lambda could not be reached ({Redact(e.Message)})", e);
                }
            }
            finally
            {
                _turn.Release();
            }

            using (response)
            {
                var text = await response.Content.ReadAsStringAsync(cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    return JsonNode.Parse(text)?["data"] ?? throw new ProviderException("failed", $"Lambda's answer to {method} /{path} has no data");
                }

                if (response.StatusCode == HttpStatusCode.TooManyRequests && attempt < _options.RateLimitRetries)
                {
                    var wait = response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(_options.RateLimitBackoffSeconds * (attempt + 1));
                    await Task.Delay(wait, _time, cancellationToken);
                    continue;
                }

                throw Error(response.StatusCode, text, method, path);
            }
        }
    }

    private async Task PaceAsync(bool launch, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var next = _lastRequest + TimeSpan.FromSeconds(_options.RequestIntervalSeconds);
        if (launch)
        {
            var nextLaunch = _lastLaunch + TimeSpan.FromSeconds(_options.LaunchIntervalSeconds);
            next = next > nextLaunch ? next : nextLaunch;
        }

        if (next > now)
        {
            await Task.Delay(next - now, _time, cancellationToken);
        }

        _lastRequest = _time.GetUtcNow();
        if (launch)
        {
            _lastLaunch = _lastRequest;
        }
    }

    /// <summary>Lambda's error by its code (its HTTP status where the body has none).</summary>
    private ProviderException Error(HttpStatusCode status, string text, HttpMethod method, string path)
    {
        string? code = null, message = null;
        try
        {
            var error = JsonNode.Parse(text)?["error"];
            code = error?["code"]?.GetValue<string>();
            message = error?["message"]?.GetValue<string>();
        }
        catch (JsonException)
        {
            // a proxy's page (Cloudflare's 1015 for a rate limit, a 502): the status says it
        }

        var ours = code switch
        {
            "instance-operations/launch/insufficient-capacity" => "unavailable",
            "global/invalid-api-key" => "unauthorized",
            "global/account-inactive" or "global/forbidden" => "forbidden",
            "global/quota-exceeded" => "quota",
            "global/object-does-not-exist" or "global/not-found" => "not_found",
            "global/invalid-parameters" or "global/invalid-address" => "invalid_request",
            _ => status switch
            {
                HttpStatusCode.Unauthorized => "unauthorized",
                HttpStatusCode.Forbidden => "forbidden",
                HttpStatusCode.NotFound => "not_found",
                HttpStatusCode.TooManyRequests => "rate_limited",
                >= HttpStatusCode.InternalServerError => "failed",
                _ => "invalid_request",
            },
        };
        var said = message ?? (text.Length > 200 ? text[..200] + "…" : text);
        return new ProviderException(ours, Redact($"Lambda answered {(int)status} to {method} /{path}: {code ?? "no code"}: {said}"));
    }

    /// <summary>The text with the API key, wherever it appears, replaced.</summary>
    private string Redact(string text) => _key.Length == 0 ? text : text.Replace(_key, "[api key]", StringComparison.Ordinal);
}
