using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;

namespace Actors.Client.Api.Billing;

/// <summary>The few Stripe calls billing needs, over HttpClient in Stripe's own wire format:
/// form-encoded bodies with bracketed keys, Bearer secret key, <c>Stripe-Version</c>, and an
/// <c>Idempotency-Key</c> on every POST, kept across retries so a retried create never makes two
/// objects. 429, 5xx and connection failures are retried with exponential backoff and jitter
/// (honouring Retry-After); other errors come back as <see cref="StripeException"/>.</summary>
public sealed class StripeClient
{
    private readonly HttpClient _http;
    private readonly StripeOptions _options;
    private readonly ResiliencePipeline<HttpResponseMessage> _retry;

    public StripeClient(HttpClient http, IOptions<StripeOptions> options, TimeProvider time)
    {
        _http = http;
        _options = options.Value;
        _retry = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = Math.Max(1, _options.MaxRetries),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(_options.RetryBaseMilliseconds),
                ShouldHandle = new PredicateBuilder<HttpResponseMessage>()
                    .Handle<HttpRequestException>()
                    .Handle<TaskCanceledException>()
                    .HandleResult(r => r.StatusCode == HttpStatusCode.TooManyRequests || (int)r.StatusCode >= 500),
                DelayGenerator = args => ValueTask.FromResult(
                    args.Outcome.Result?.Headers.RetryAfter?.Delta is { } after && after < TimeSpan.FromSeconds(30) ? (TimeSpan?)after : null),
                OnRetry = args =>
                {
                    args.Outcome.Result?.Dispose();
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
    }

    public bool Configured => _options.Configured;

    public async Task<string> CreateCustomerAsync(string tenantId, string name, CancellationToken ct = default)
    {
        var customer = await PostAsync("/v1/customers", [("name", name), ("metadata[tenant_id]", tenantId)], "customer-" + tenantId, ct);
        return customer.GetProperty("id").GetString()!;
    }

    /// <summary>A hosted Checkout page: a subscription to <paramref name="priceId"/> or a one-time
    /// payment for it; <paramref name="metadata"/> comes back on the session's events.</summary>
    public async Task<(string Id, string Url)> CreateCheckoutSessionAsync(string customerId, string tenantId, bool subscription, string priceId,
        IReadOnlyDictionary<string, string> metadata, string idempotencyKey, CancellationToken ct = default)
    {
        var form = new List<(string, string)>
        {
            ("mode", subscription ? "subscription" : "payment"),
            ("customer", customerId),
            ("client_reference_id", tenantId),
            ("line_items[0][price]", priceId),
            ("line_items[0][quantity]", "1"),
            ("success_url", _options.SuccessUrl),
            ("cancel_url", _options.CancelUrl),
        };
        foreach (var (key, value) in metadata)
        {
            form.Add(($"metadata[{key}]", value));
            if (subscription)
            {
                form.Add(($"subscription_data[metadata][{key}]", value));
            }
        }

        var session = await PostAsync("/v1/checkout/sessions", form, idempotencyKey, ct);
        return (session.GetProperty("id").GetString()!, session.GetProperty("url").GetString()!);
    }

    public async Task<string> CreatePortalSessionAsync(string customerId, string idempotencyKey, CancellationToken ct = default)
    {
        var session = await PostAsync("/v1/billing_portal/sessions", [("customer", customerId), ("return_url", _options.PortalReturnUrl)], idempotencyKey, ct);
        return session.GetProperty("url").GetString()!;
    }

    /// <summary>POSTs form fields to <paramref name="path"/> (e.g. /v1/billing/meter_events).</summary>
    public async Task<JsonElement> PostAsync(string path, IEnumerable<(string Key, string Value)> form, string idempotencyKey, CancellationToken ct = default)
    {
        if (!Configured)
        {
            throw new StripeException(0, "not_configured", "Stripe is not configured (Billing:Stripe:SecretKey)");
        }

        var fields = form.Select(f => new KeyValuePair<string, string>(f.Key, f.Value)).ToList();
        HttpResponseMessage response;
        try
        {
            response = await _retry.ExecuteAsync(async token =>
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(new Uri(_options.BaseUrl), path))
                {
                    Content = new FormUrlEncodedContent(fields),
                };
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _options.SecretKey);
                request.Headers.Add("Stripe-Version", _options.ApiVersion);
                request.Headers.Add("Idempotency-Key", idempotencyKey);
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
                timeout.CancelAfter(TimeSpan.FromSeconds(_options.TimeoutSeconds));
                return await _http.SendAsync(request, timeout.Token);
            }, ct);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            throw new StripeException(0, "api_connection_error", $"Stripe could not be reached: {e.Message}");
        }

        using (response)
        {
            var body = await response.Content.ReadAsStringAsync(ct);
            JsonElement json;
            try
            {
                json = JsonDocument.Parse(body).RootElement.Clone();
            }
            catch (JsonException)
            {
                throw new StripeException((int)response.StatusCode, "api_error", $"Stripe answered {(int)response.StatusCode} with a body that is not JSON");
            }

            if (response.IsSuccessStatusCode)
            {
                return json;
            }

            var error = json.TryGetProperty("error", out var e) ? e : default;
            throw new StripeException((int)response.StatusCode,
                error.ValueKind == JsonValueKind.Object && error.TryGetProperty("type", out var t) ? t.GetString() ?? "api_error" : "api_error",
                error.ValueKind == JsonValueKind.Object && error.TryGetProperty("message", out var m) ? m.GetString() ?? "" : $"HTTP {(int)response.StatusCode}");
        }
    }

    internal static string Seconds(long value) => value.ToString(CultureInfo.InvariantCulture);
}
