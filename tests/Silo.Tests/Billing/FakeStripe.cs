using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Web;

namespace Actors.Silo.Tests.Billing;

/// <summary>Stripe's API as far as billing uses it, on 127.0.0.1: takes the client's real requests
/// (form-encoded, Bearer key, Stripe-Version, Idempotency-Key), answers with Stripe-shaped objects
/// (cus_…, cs_…, bps_…), replays a repeated Idempotency-Key's answer, records everything, can fail
/// the next requests on demand, and sends signed events (Stripe-Signature) to the silo.</summary>
public sealed class FakeStripe() : LoopbackHttpServer("/", concurrent: true)
{
    public const string SecretKey = "sk_test_fake_0123456789";
    public const string WebhookSecret = "whsec_test_current_secret";
    public const string OldWebhookSecret = "whsec_test_old_secret";

    private readonly ConcurrentDictionary<string, (int Status, string Body)> _idempotent = new();
    private int _sequence;

    /// <summary>Statuses to answer the next requests with (Stripe error bodies), before serving normally.</summary>
    public ConcurrentQueue<int> FailNext { get; } = new();

    public ConcurrentQueue<Recorded> Requests { get; } = new();

    public IEnumerable<Recorded> To(string path) => Requests.Where(r => r.Path == path);

    public sealed record Recorded(string Method, string Path, string? IdempotencyKey, string? Version, string? Authorization, IReadOnlyDictionary<string, string> Form, int Status);

    /// <summary>A Stripe event object around <paramref name="data"/>.</summary>
    public static string Event(string type, object data, long created, string? id = null) => JsonSerializer.Serialize(new
    {
        id = id ?? "evt_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12)),
        @object = "event",
        api_version = "2026-02-25.clover",
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
    public static async Task<HttpResponseMessage> SendAsync(HttpClient silo, string payload, string? signature = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/stripe") { Content = new StringContent(payload, Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("Stripe-Signature", signature ?? Signature(payload, DateTimeOffset.UtcNow.ToUnixTimeSeconds()));
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
        var (status, body) = Answer(request, path, key, form);
        Requests.Enqueue(new Recorded(request.HttpMethod, path, key, request.Headers["Stripe-Version"], request.Headers["Authorization"], form, status));
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        var bytes = Encoding.UTF8.GetBytes(body);
        await context.Response.OutputStream.WriteAsync(bytes);
        context.Response.Close();
    }

    private (int, string) Answer(HttpListenerRequest request, string path, string? key, Dictionary<string, string> form)
    {
        if (request.Headers["Authorization"] != "Bearer " + SecretKey)
        {
            return Error(401, "invalid_request_error", "Invalid API Key provided");
        }

        if (request.HttpMethod == "POST" && string.IsNullOrEmpty(key))
        {
            return Error(400, "invalid_request_error", "this fake insists on an Idempotency-Key");
        }

        if (string.IsNullOrEmpty(request.Headers["Stripe-Version"]) ||
            !(request.ContentType ?? "").StartsWith("application/x-www-form-urlencoded", StringComparison.Ordinal))
        {
            return Error(400, "invalid_request_error", "expected a form-encoded body and a Stripe-Version");
        }

        if (FailNext.TryDequeue(out var failure))
        {
            return Error(failure, failure == 429 ? "rate_limit_error" : "api_error", "injected failure");
        }

        if (_idempotent.TryGetValue(path + " " + key, out var replay))
        {
            return replay;
        }

        var n = Interlocked.Increment(ref _sequence);
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        object? answer = path switch
        {
            "/v1/customers" => new { id = $"cus_test{n:D6}", @object = "customer", created = now, name = form.GetValueOrDefault("name"), metadata = Metadata(form, "metadata") },
            "/v1/checkout/sessions" => new
            {
                id = $"cs_test_{n:D6}",
                @object = "checkout.session",
                url = $"https://checkout.stripe.com/c/pay/cs_test_{n:D6}",
                mode = form.GetValueOrDefault("mode"),
                customer = form.GetValueOrDefault("customer"),
                client_reference_id = form.GetValueOrDefault("client_reference_id"),
                payment_status = "unpaid",
                status = "open",
                metadata = Metadata(form, "metadata"),
            },
            "/v1/billing_portal/sessions" => new { id = $"bps_test{n:D6}", @object = "billing_portal.session", customer = form.GetValueOrDefault("customer"), url = $"https://billing.stripe.com/p/session/test_{n:D6}" },
            "/v1/billing/meter_events" => new
            {
                @object = "billing.meter_event",
                created = now,
                event_name = form.GetValueOrDefault("event_name"),
                identifier = form.GetValueOrDefault("identifier"),
                livemode = false,
                payload = Metadata(form, "payload"),
                timestamp = long.Parse(form.GetValueOrDefault("timestamp") ?? now.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture),
            },
            _ => null,
        };
        var result = answer is null ? Error(404, "invalid_request_error", $"Unrecognized request URL (POST: {path})") : (200, JsonSerializer.Serialize(answer));
        _idempotent[path + " " + key] = result;
        return result;
    }

    private static Dictionary<string, string> Metadata(Dictionary<string, string> form, string prefix) =>
        form.Where(f => f.Key.StartsWith(prefix + "[", StringComparison.Ordinal))
            .ToDictionary(f => f.Key[(prefix.Length + 1)..^1], f => f.Value);

    private static (int, string) Error(int status, string type, string message) =>
        (status, JsonSerializer.Serialize(new { error = new { type, message } }));
}
