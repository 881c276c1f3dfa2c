using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Actors.Silo.Tests;

/// <summary>What a client of the API does, over real HTTP: create tenants (admin), submit and read jobs.</summary>
public sealed class ApiClient(HttpClient http)
{
    public HttpClient Http { get; } = http;

    public async Task<(string TenantId, string Key, string WebhookSecret)> CreateTenantAsync(string tier, string? name = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/admin/tenants") { Content = JsonContent.Create(new { name = name ?? $"{tier} tenant", tier }) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", SiloFactory.AdminKey);
        using var response = await Http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return (body.GetProperty("tenantId").GetString()!, body.GetProperty("apiKey").GetString()!, body.GetProperty("webhookSecret").GetString()!);
    }

    public Task<HttpResponseMessage> SubmitAsync(string key, object body, string? idempotencyKey = null, int? wait = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/jobs") { Content = JsonContent.Create(body) };
        return SendAsync(request, key, idempotencyKey, wait);
    }

    public Task<HttpResponseMessage> SubmitMultipartAsync(string key, string model, byte[] input, string contentType, IDictionary<string, string>? fields = null, int? wait = null)
    {
        var form = new MultipartFormDataContent();
        form.Add(new StringContent(model), "model");
        var file = new ByteArrayContent(input);
        file.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        form.Add(file, "input", "input.png");
        foreach (var (name, value) in fields ?? new Dictionary<string, string>())
        {
            form.Add(new StringContent(value), name);
        }

        return SendAsync(new HttpRequestMessage(HttpMethod.Post, "/v1/jobs") { Content = form }, key, null, wait);
    }

    public async Task<JsonElement> SubmitOkAsync(string key, object body, int? wait = null)
    {
        using var response = await SubmitAsync(key, body, wait: wait);
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    public Task<HttpResponseMessage> GetAsync(string key, string url, int? wait = null) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Get, url), key, null, wait);

    /// <summary>Polls (Prefer: wait) until the job has finished.</summary>
    public async Task<JsonElement> WaitAsync(string key, string jobId, int seconds = 60)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            using var response = await GetAsync(key, $"/v1/jobs/{jobId}", wait: 10);
            var job = await response.Content.ReadFromJsonAsync<JsonElement>();
            if (response.StatusCode == System.Net.HttpStatusCode.OK || clock.Elapsed.TotalSeconds > seconds)
            {
                return job;
            }
        }
    }

    public async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, string key, string? idempotencyKey = null, int? wait = null)
    {
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        if (wait is not null)
        {
            request.Headers.Add("Prefer", $"wait={wait}");
        }

        return await Http.SendAsync(request);
    }

    public static object Identity(float[] values, int? seedTag = null) => new
    {
        model = "identity",
        input = Convert.ToBase64String(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray()),
        contentType = "application/octet-stream",
        parameters = new { shape = new[] { 1, 1, 16 }, seed = seedTag ?? 0 },
    };
}
