using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace Actors.Fleet.Providers.Cloud;

/// <summary>One GPU cloud's HTTP API as every adapter uses it: the bearer key on each request,
/// requests paced as the cloud asks (<see cref="CloudPacing"/>), 429s waited out (its
/// Retry-After where sent, else a growing back-off) and tried again, a time-out or an unreachable
/// cloud turned into a <see cref="ProviderException"/> ("timeout", "failed"), and the key redacted
/// from every message. What an answer means is the adapter's: it gets the status, the body and
/// the headers of the last answer.</summary>
public sealed class CloudHttp : IDisposable
{
    private readonly HttpClient _http;
    private readonly string _cloud;
    private readonly string _key;
    private readonly CloudPacing _pacing;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _turn = new(1, 1);
    private readonly Dictionary<string, DateTimeOffset> _last = new(StringComparer.Ordinal);
    private DateTimeOffset _lastAny = DateTimeOffset.MinValue;

    public CloudHttp(string cloud, string baseUrl, string key, double timeoutSeconds, CloudPacing pacing, TimeProvider time, HttpMessageHandler? handler = null)
    {
        _cloud = cloud;
        _key = key;
        _pacing = pacing;
        _time = time;
        _http = new HttpClient(handler ?? new SocketsHttpHandler(), disposeHandler: handler is null)
        {
            BaseAddress = new Uri(baseUrl.TrimEnd('/') + "/"),
            Timeout = TimeSpan.FromSeconds(timeoutSeconds),
        };
    }

    /// <summary>Requests that got a 429 and were waited out (for tests and the metric).</summary>
    public int RateLimited { get; private set; }

    /// <summary>Sends one request in its turn: <paramref name="endpoint"/> names the rate limit it
    /// counts against (e.g. "launch"); a 429 is tried again up to <see cref="CloudPacing.RateLimitRetries"/>
    /// times, then returned like any other answer.</summary>
    public async Task<CloudAnswer> SendAsync(HttpMethod method, string path, JsonNode? body, string endpoint, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            HttpResponseMessage response;
            await _turn.WaitAsync(cancellationToken);
            try
            {
                await PaceAsync(endpoint, cancellationToken);
                using var request = new HttpRequestMessage(method, path);
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _key);
                if (body is not null)
                {
                    request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
                }

                try
                {
                    response = await _http.SendAsync(request, cancellationToken);
                }
                catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new ProviderException("timeout", $"{_cloud} did not answer {method} /{Redact(Route(path))} in {_http.Timeout.TotalSeconds:0} s", e);
                }
                catch (HttpRequestException e)
                {
                    throw new ProviderException("failed", $"{_cloud} could not be reached ({Redact(e.Message)})", e);
                }
            }
            finally
            {
                // Paced from when the cloud answered, not from when we sent: the cloud counts the
                // gap between arrivals, and this request arrived before its answer did, so the next
                // one (sent an interval after this answer) cannot arrive too soon however slow the
                // way there was (a loaded machine lost ~10 ms against the fake's tolerance).
                _lastAny = _last[endpoint] = _time.GetUtcNow();
                _turn.Release();
            }

            using (response)
            {
                var text = await response.Content.ReadAsStringAsync(cancellationToken);
                if (response.StatusCode == HttpStatusCode.TooManyRequests && attempt < _pacing.RateLimitRetries)
                {
                    RateLimited++;
                    var wait = response.Headers.RetryAfter?.Delta ?? _pacing.RateLimitBackoff * (attempt + 1);
                    await Task.Delay(wait, _time, cancellationToken);
                    continue;
                }

                return new CloudAnswer(response.StatusCode, text, response.Headers.RetryAfter?.Delta);
            }
        }
    }

    /// <summary>The text with the API key, wherever it appears, replaced.</summary>
    public string Redact(string text) => _key.Length == 0 ? text : text.Replace(_key, "[api key]", StringComparison.Ordinal);

    /// <summary>A path without its query (a key passed as a query parameter stays out of messages).</summary>
    public static string Route(string path) => path.Split('?')[0];

    public void Dispose()
    {
        _http.Dispose();
        _turn.Dispose();
    }

    private async Task PaceAsync(string endpoint, CancellationToken cancellationToken)
    {
        var next = _lastAny + _pacing.Interval;
        if (_pacing.PerEndpoint.TryGetValue(endpoint, out var interval) && _last.TryGetValue(endpoint, out var last) && last + interval > next)
        {
            next = last + interval;
        }

        var now = _time.GetUtcNow();
        if (next > now)
        {
            await Task.Delay(next - now, _time, cancellationToken);
        }

        _lastAny = _last[endpoint] = _time.GetUtcNow();
    }
}

/// <summary>How a cloud wants to be called: at least <see cref="Interval"/> between any two
/// requests, at least the endpoint's interval between two of the same endpoint (Lambda: a launch
/// per 10–12 s; Vast: each endpoint its own minimum), and how 429s are waited out.</summary>
public sealed record CloudPacing(TimeSpan Interval, IReadOnlyDictionary<string, TimeSpan> PerEndpoint, int RateLimitRetries, TimeSpan RateLimitBackoff);

/// <summary>A cloud's answer: status, body text and Retry-After (when sent).</summary>
public sealed record CloudAnswer(HttpStatusCode Status, string Text, TimeSpan? RetryAfter)
{
    public bool Ok => (int)Status is >= 200 and < 300;

    /// <summary>The body as JSON, or null when it is not (a proxy's page, plain text).</summary>
    public JsonNode? Json()
    {
        try
        {
            return Text.Length == 0 ? null : JsonNode.Parse(Text);
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    /// <summary>At most 200 characters of the body, for a message.</summary>
    public string Excerpt => Text.Length > 200 ? Text[..200] + "…" : Text;
}
