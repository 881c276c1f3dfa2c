using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Actors.Silo.Tests.Billing;

/// <summary>The fake Stripe refuses what Stripe refuses, so a billing test that sends Stripe a wrong
/// field, header or key reuse fails instead of passing against a lenient fake.</summary>
public sealed class FakeStripeTests : IDisposable
{
    private readonly FakeStripe _stripe = new();
    private readonly HttpClient _http;

    public FakeStripeTests() => _http = new HttpClient { BaseAddress = new Uri(_stripe.Url) };

    public void Dispose()
    {
        _http.Dispose();
        _stripe.Dispose();
    }

    [Fact]
    public async Task UnknownOrMissingParametersBadVersionsAndReusedKeysAreRefusedLikeStripe()
    {
        Assert.Equal((HttpStatusCode.OK, null), await PostAsync("/v1/customers", "k1", ("name", "Acme"), ("metadata[tenant_id]", "t1")));
        Assert.Equal((HttpStatusCode.BadRequest, "parameter_unknown"), await PostAsync("/v1/customers", "k2", ("nme", "Acme")));
        Assert.Equal((HttpStatusCode.BadRequest, "parameter_missing"), await PostAsync("/v1/billing_portal/sessions", "k3", ("return_url", "http://127.0.0.1/")));
        Assert.Equal((HttpStatusCode.BadRequest, "parameter_missing"), await PostAsync("/v1/billing/meter_events", "k4", ("event_name", "x"), ("payload[value]", "3")));
        Assert.Equal((HttpStatusCode.BadRequest, null), await PostAsync("/v1/checkout/sessions", "k5",
            ("mode", "payment"), ("line_items[0][price]", "p"), ("line_items[0][quantity]", "1"), ("subscription_data[metadata][a]", "b")));
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_api_version"), await PostAsync("/v1/customers", "k6", "latest", null, ("name", "Acme")));
        Assert.Equal((HttpStatusCode.Unauthorized, null), await PostAsync("/v1/customers", "k7", null, "sk_test_wrong", ("name", "Acme")));
        Assert.Equal((HttpStatusCode.NotFound, "resource_missing"), await PostAsync("/v1/charges", "k8", ("amount", "100")));

        // The same key again: the first answer, replayed; with other parameters: idempotency_error.
        var first = await _http.SendAsync(Request("/v1/customers", "k1", null, null, ("name", "Acme"), ("metadata[tenant_id]", "t1")));
        Assert.Equal("cus_test000001", (await first.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString());
        var reused = await _http.SendAsync(Request("/v1/customers", "k1", null, null, ("name", "Other")));
        Assert.Equal(HttpStatusCode.BadRequest, reused.StatusCode);
        Assert.Equal("idempotency_error", (await reused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetProperty("type").GetString());
    }

    private Task<(HttpStatusCode, string?)> PostAsync(string path, string idempotencyKey, params (string, string)[] form) =>
        PostAsync(path, idempotencyKey, null, null, form);

    private async Task<(HttpStatusCode, string?)> PostAsync(string path, string idempotencyKey, string? version, string? key, params (string, string)[] form)
    {
        using var response = await _http.SendAsync(Request(path, idempotencyKey, version, key, form));
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return (response.StatusCode, body.TryGetProperty("error", out var e) && e.GetProperty("code").ValueKind == JsonValueKind.String ? e.GetProperty("code").GetString() : null);
    }

    private static HttpRequestMessage Request(string path, string idempotencyKey, string? version, string? key, params (string Key, string Value)[] form)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new FormUrlEncodedContent(form.Select(f => new KeyValuePair<string, string>(f.Key, f.Value))),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key ?? FakeStripe.SecretKey);
        request.Headers.Add("Stripe-Version", version ?? Stripe.StripeConfiguration.ApiVersion);
        request.Headers.Add("Idempotency-Key", idempotencyKey);
        return request;
    }
}
