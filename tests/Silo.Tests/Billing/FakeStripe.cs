using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Web;

namespace Actors.Silo.Tests.Billing;

/// <summary>Stripe's API as far as billing uses it, on 127.0.0.1, as strict as Stripe about what it
/// is sent: a Bearer secret key, a <c>Stripe-Version</c> that names a release, form-encoded bodies
/// whose parameters each endpoint knows (an unknown one is Stripe's 400 <c>parameter_unknown</c>,
/// a missing required one <c>parameter_missing</c>), and idempotency keys (one reused with other
/// parameters is Stripe's 400 <c>idempotency_error</c>; a repeat gets the first answer, replayed).
/// Answers are Stripe-shaped objects (cus_…, cs_…, bps_…); failures can be injected; signed events
/// (Stripe-Signature, computed here, not by Stripe.net) are sent to the silo. Its clock
/// (<paramref name="time"/>, the system's by default) dates objects and signatures.</summary>
public sealed partial class FakeStripe(TimeProvider? time = null) : LoopbackHttpServer("/", concurrent: true)
{
    public const string SecretKey = "sk_test_fake_0123456789";
    public const string WebhookSecret = "whsec_test_current_secret";
    public const string OldWebhookSecret = "whsec_test_old_secret";

    /// <summary>Per endpoint: the top-level parameters Stripe accepts, and the ones it requires.</summary>
    private static readonly Dictionary<string, (string[] Allowed, string[] Required)> Endpoints = new()
    {
        ["/v1/customers"] = (["address", "description", "email", "expand", "metadata", "name", "phone", "preferred_locales", "shipping", "tax_exempt"], []),
        ["/v1/checkout/sessions"] = (
            ["allow_promotion_codes", "automatic_tax", "cancel_url", "client_reference_id", "customer", "customer_email", "expand", "line_items", "locale",
             "metadata", "mode", "payment_intent_data", "return_url", "subscription_data", "success_url", "ui_mode"],
            ["mode", "line_items[0][price]", "line_items[0][quantity]"]),
        ["/v1/billing_portal/sessions"] = (["configuration", "customer", "expand", "flow_data", "locale", "on_behalf_of", "return_url"], ["customer"]),
        ["/v1/billing/meter_events"] = (["event_name", "identifier", "payload", "timestamp"], ["event_name", "payload[stripe_customer_id]", "payload[value]"]),
    };

    private readonly ConcurrentDictionary<string, (string Path, string Form, int Status, string Body)> _idempotent = new();
    private int _sequence;

    /// <summary>The clock Stripe's answers and signatures are dated by.</summary>
    public TimeProvider Time { get; } = time ?? TimeProvider.System;

    /// <summary>Failures to answer the next requests with, before serving normally.</summary>
    public ConcurrentQueue<Failure> FailNext { get; } = new();

    public ConcurrentQueue<Recorded> Requests { get; } = new();

    public IEnumerable<Recorded> To(string path) => Requests.Where(r => r.Path == path);

    public sealed record Recorded(string Method, string Path, string? IdempotencyKey, string? Version, string? UserAgent, IReadOnlyDictionary<string, string> Form,
        int Status, string? ErrorCode);

    /// <summary>An injected failure: <paramref name="ShouldRetry"/> sets Stripe-Should-Retry, as
    /// Stripe does on a lock timeout (true) or a request that must not be repeated (false).</summary>
    public sealed record Failure(int Status, bool? ShouldRetry = null);

    /// <summary>A Stripe event object around <paramref name="data"/>, in the API version Stripe.net speaks.</summary>
    public static string Event(string type, object data, long created, string? id = null) => JsonSerializer.Serialize(new
    {
        id = id ?? "evt_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12)),
        @object = "event",
        api_version = Stripe.StripeConfiguration.ApiVersion,
        created,
        livemode = false,
        pending_webhooks = 1,
        type,
        data = new { @object = data },
    });

    /// <summary>The header Stripe would send: t and v1 = HMAC-SHA256(secret, "{t}.{payload}").</summary>
    public static string Signature(string payload, long timestamp, string secret = WebhookSecret)
    {
        var t = timestamp.ToString(CultureInfo.InvariantCulture);
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(t + "." + payload));
        return $"t={t},v1={Convert.ToHexStringLower(mac)}";
    }

    /// <summary>Posts an event to the silo's /webhooks/stripe as Stripe does.</summary>
    public async Task<HttpResponseMessage> SendAsync(HttpClient silo, string payload, string? signature = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/stripe") { Content = new StringContent(payload, Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("Stripe-Signature", signature ?? Signature(payload, Time.GetUtcNow().ToUnixTimeSeconds()));
        return await silo.SendAsync(request);
    }

    protected override async Task HandleAsync(HttpListenerContext context)
    {
        var request = context.Request;
        using var reader = new StreamReader(request.InputStream);
        var raw = await reader.ReadToEndAsync();
        var parsed = HttpUtility.ParseQueryString(raw);
        var form = parsed.AllKeys.Where(k => k is not null).ToDictionary(k => k!, k => parsed[k]!);
        var path = request.Url!.AbsolutePath;
        var key = request.Headers["Idempotency-Key"];
        var (status, body, shouldRetry) = Answer(request, path, key, raw, form);
        var code = status >= 400 ? JsonDocument.Parse(body).RootElement.GetProperty("error").TryGetProperty("code", out var c) ? c.GetString() : null : null;
        Requests.Enqueue(new Recorded(request.HttpMethod, path, key, request.Headers["Stripe-Version"], request.Headers["User-Agent"], form, status, code));
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        context.Response.Headers["Request-Id"] = "req_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(7));
        if (shouldRetry is { } retry)
        {
            context.Response.Headers["Stripe-Should-Retry"] = retry ? "true" : "false";
        }

        if (key is not null)
        {
            context.Response.Headers["Idempotency-Key"] = key;
        }

        var bytes = Encoding.UTF8.GetBytes(body);
        await context.Response.OutputStream.WriteAsync(bytes);
        context.Response.Close();
    }

    private (int, string, bool?) Answer(HttpListenerRequest request, string path, string? key, string raw, Dictionary<string, string> form)
    {
        if (request.Headers["Authorization"] != "Bearer " + SecretKey)
        {
            return Error(401, "invalid_request_error", null, "Invalid API Key provided");
        }

        var version = request.Headers["Stripe-Version"];
        if (version is null || !VersionPattern().IsMatch(version))
        {
            return Error(400, "invalid_request_error", "invalid_api_version", $"Invalid Stripe API version: {version}");
        }

        if (request.HttpMethod != "POST" || !Endpoints.TryGetValue(path, out var endpoint))
        {
            return Error(404, "invalid_request_error", "resource_missing", $"Unrecognized request URL ({request.HttpMethod}: {path})");
        }

        if (!(request.ContentType ?? "").StartsWith("application/x-www-form-urlencoded", StringComparison.Ordinal))
        {
            return Error(400, "invalid_request_error", null, "Invalid request: the body must be application/x-www-form-urlencoded");
        }

        if (key is { Length: > 255 })
        {
            return Error(400, "invalid_request_error", null, "Idempotency keys may be at most 255 characters");
        }

        if (form.Keys.FirstOrDefault(k => !endpoint.Allowed.Contains(k.Split('[')[0], StringComparer.Ordinal)) is { } unknown)
        {
            return Error(400, "invalid_request_error", "parameter_unknown", $"Received unknown parameter: {unknown}");
        }

        if (endpoint.Required.FirstOrDefault(r => !form.ContainsKey(r)) is { } missing)
        {
            return Error(400, "invalid_request_error", "parameter_missing", $"Missing required param: {missing}.");
        }

        if (path == "/v1/checkout/sessions" && !(form["mode"] is "payment" or "subscription" or "setup"))
        {
            return Error(400, "invalid_request_error", "parameter_invalid_string", $"Invalid mode: {form["mode"]}");
        }

        if (path == "/v1/checkout/sessions" && form["mode"] != "subscription" && form.Keys.Any(k => k.StartsWith("subscription_data[", StringComparison.Ordinal)))
        {
            return Error(400, "invalid_request_error", null, $"You can not pass `subscription_data` in `{form["mode"]}` mode.");
        }

        if (FailNext.TryDequeue(out var failure))
        {
            var (status, body, _) = Error(failure.Status, failure.Status == 429 ? "rate_limit_error" : "api_error",
                failure is { Status: 429, ShouldRetry: true } ? "lock_timeout" : failure.Status == 429 ? "rate_limit" : null, "injected failure");
            return (status, body, failure.ShouldRetry);
        }

        if (key is not null && _idempotent.TryGetValue(key, out var replay))
        {
            return replay.Path == path && replay.Form == Canonical(form)
                ? (replay.Status, replay.Body, null)
                : Error(400, "idempotency_error", null,
                    "Keys for idempotent requests can only be used with the same parameters they were first used with.");
        }

        var n = Interlocked.Increment(ref _sequence);
        var now = Time.GetUtcNow().ToUnixTimeSeconds();
        object answer = path switch
        {
            "/v1/customers" => new { id = $"cus_test{n:D6}", @object = "customer", created = now, name = form.GetValueOrDefault("name"), metadata = Hash(form, "metadata") },
            "/v1/checkout/sessions" => new
            {
                id = $"cs_test_{n:D6}",
                @object = "checkout.session",
                url = $"https://checkout.stripe.com/c/pay/cs_test_{n:D6}",
                mode = form["mode"],
                customer = form.GetValueOrDefault("customer"),
                client_reference_id = form.GetValueOrDefault("client_reference_id"),
                payment_status = "unpaid",
                status = "open",
                metadata = Hash(form, "metadata"),
            },
            "/v1/billing_portal/sessions" => new { id = $"bps_test{n:D6}", @object = "billing_portal.session", customer = form["customer"], url = $"https://billing.stripe.com/p/session/test_{n:D6}" },
            _ => new
            {
                @object = "billing.meter_event",
                created = now,
                event_name = form["event_name"],
                identifier = form.GetValueOrDefault("identifier"),
                livemode = false,
                payload = Hash(form, "payload"),
                timestamp = long.Parse(form.GetValueOrDefault("timestamp") ?? now.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture),
            },
        };
        var result = (200, JsonSerializer.Serialize(answer));
        if (key is not null)
        {
            _idempotent[key] = (path, Canonical(form), result.Item1, result.Item2);
        }

        return (result.Item1, result.Item2, null);
    }

    private static string Canonical(Dictionary<string, string> form) =>
        string.Join('&', form.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => f.Key + "=" + f.Value));

    private static Dictionary<string, string> Hash(Dictionary<string, string> form, string prefix) =>
        form.Where(f => f.Key.StartsWith(prefix + "[", StringComparison.Ordinal))
            .ToDictionary(f => f.Key[(prefix.Length + 1)..^1], f => f.Value);

    private static (int, string, bool?) Error(int status, string type, string? code, string message) =>
        (status, JsonSerializer.Serialize(new { error = new { type, code, message } }), null);

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}(\.[a-z]+)?$")]
    private static partial Regex VersionPattern();
}
