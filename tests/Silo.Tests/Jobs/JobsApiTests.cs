using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Actors.Inference.Tests;
using Actors.Silo.Gpu;
using Microsoft.Extensions.DependencyInjection;

namespace Actors.Silo.Tests.Jobs;

/// <summary>The jobs API over HTTP against a whole silo (API, control and GPU host in one
/// process); runs once per store.</summary>
public abstract class JobsApiTests<TFactory>(TFactory factory)
    where TFactory : SiloFactory
{
    private static readonly Phantoms.Disc[] Discs = [new(1, 45, 50, 20), new(2, 88, 45, 13), new(3, 70, 92, 16), new(4, 40, 90, 7)];

    private ApiClient Api => new(factory.CreateClient());

    private long GpuRuns => factory.Services.GetRequiredService<GpuHost>().Completed;

    private Task<long> SettledGpuRunsAsync() => GpuRunCount.SettledAsync(() => GpuRuns);

    [Fact]
    public async Task APhantomGetsItsPassportAndTheSameUploadAgainIsACacheHitWithoutTheGpu()
    {
        var (_, key, _) = await Api.CreateTenantAsync("pro");
        var png = Phantoms.Png8(Phantoms.Draw(128, Discs, seed: 7), 128);
        using var first = await Api.SubmitMultipartAsync(key, "segmentation", png, "image/png", new Dictionary<string, string> { ["spacingXMm"] = "0.5" }, wait: 30);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var job = await first.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("succeeded", job.GetProperty("status").GetString());
        Assert.False(job.GetProperty("cacheHit").GetBoolean());
        var structures = job.GetProperty("output").GetProperty("passport").GetProperty("structures");
        foreach (var disc in Discs)
        {
            var measured = structures.EnumerateArray().Single(s => s.GetProperty("index").GetInt32() == disc.Label);
            var truthMm2 = disc.Area * 0.25; // 0.5 mm × 0.5 mm pixels
            Assert.InRange(measured.GetProperty("areaMm2").GetDouble(), truthMm2 * 0.9, truthMm2 * 1.1);
        }

        // The host counts a run after the job's grain has it (the client may see it first): wait
        // for the count to settle, so the comparison below sees only what the second request did.
        var runs = await SettledGpuRunsAsync();
        using var again = await Api.SubmitMultipartAsync(key, "segmentation", png, "image/png", new Dictionary<string, string> { ["spacingXMm"] = "0.5" }, wait: 30);
        var hit = await again.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.True(hit.GetProperty("cacheHit").GetBoolean());
        Assert.NotEqual(job.GetProperty("id").GetString(), hit.GetProperty("id").GetString());
        Assert.Equal(JsonValueKind.Null, hit.GetProperty("instance").ValueKind); // never reached a host
        Assert.Equal(runs, GpuRuns);
        Assert.Equal(job.GetProperty("output").ToString(), hit.GetProperty("output").ToString());

        // The same parameter by the same name in JSON: the same request, so the same result.
        var json = await Api.SubmitOkAsync(key, new { model = "segmentation", input = Convert.ToBase64String(png), parameters = new { spacingXMm = 0.5 } }, wait: 30);
        Assert.True(json.GetProperty("cacheHit").GetBoolean());
        Assert.Equal(job.GetProperty("output").ToString(), json.GetProperty("output").ToString());

        using var image = await Api.GetAsync(key, hit.GetProperty("imageUrl").GetString()!);
        Assert.Equal("image/png", image.Content.Headers.ContentType?.MediaType);
        Assert.Equal(0x89, (await image.Content.ReadAsByteArrayAsync())[0]);
    }

    /// <summary>Radiology exports and phone photos of X-rays are often JPEG: the same phantom sent
    /// as a JPEG is segmented like its PNG (every structure within 10% of the PNG's area).</summary>
    [Fact]
    public async Task AJpegXrayIsSegmentedLikeItsPng()
    {
        var (_, key, _) = await Api.CreateTenantAsync("pro");
        var picture = Phantoms.Draw(128, Discs, seed: 11);
        var png = Phantoms.Png8(picture, 128);
        using var grey = SixLabors.ImageSharp.Image.Load<SixLabors.ImageSharp.PixelFormats.L8>(png);
        using var jpegFile = new MemoryStream();
        grey.Save(jpegFile, new SixLabors.ImageSharp.Formats.Jpeg.JpegEncoder { Quality = 90, ColorType = SixLabors.ImageSharp.Formats.Jpeg.JpegColorType.Luminance });
        var jpeg = jpegFile.ToArray();
        Assert.Equal((0xFF, 0xD8), (jpeg[0], jpeg[1])); // a real JPEG

        var areas = new List<Dictionary<int, double>>();
        foreach (var (bytes, type) in new[] { (png, "image/png"), (jpeg, "image/jpeg") })
        {
            using var response = await Api.SubmitMultipartAsync(key, "segmentation", bytes, type, new Dictionary<string, string> { ["spacingXMm"] = "0.5" }, wait: 30);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var job = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal("succeeded", job.GetProperty("status").GetString());
            areas.Add(job.GetProperty("output").GetProperty("passport").GetProperty("structures").EnumerateArray()
                .ToDictionary(s => s.GetProperty("index").GetInt32(), s => s.GetProperty("areaMm2").GetDouble()));
        }

        foreach (var disc in Discs)
        {
            Assert.InRange(areas[1][disc.Label], areas[0][disc.Label] * 0.9, areas[0][disc.Label] * 1.1);
        }

        using var gif = await Api.SubmitMultipartAsync(key, "segmentation", "GIF89a......"u8.ToArray(), "image/gif", new Dictionary<string, string>(), wait: 0);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, gif.StatusCode);
    }

    [Fact]
    public async Task IdenticalJobsSubmittedTogetherRunOnce()
    {
        var (_, key, _) = await Api.CreateTenantAsync("free");
        var runs = GpuRuns;
        var values = Enumerable.Range(0, 16).Select(i => i * 0.5f).ToArray();
        var jobs = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => Api.SubmitOkAsync(key, ApiClient.Identity(values, 4242), wait: 30)));

        Assert.All(jobs, j => Assert.Equal("succeeded", j.GetProperty("status").GetString()));
        Assert.All(jobs, j => Assert.Equal(values, j.GetProperty("output").GetProperty("values").EnumerateArray().Select(v => v.GetSingle())));
        Assert.Equal(12, jobs.Select(j => j.GetProperty("id").GetString()).Distinct().Count());
        Assert.Equal(1, jobs.Count(j => !j.GetProperty("cacheHit").GetBoolean())); // one ran; the rest shared its result
    }

    [Fact]
    public async Task TheSameIdempotencyKeyGivesTheSameJobAndAnotherBodyIsRefused()
    {
        var (_, key, _) = await Api.CreateTenantAsync("premium");
        var body = ApiClient.Identity(new float[16], 7);
        using var a = await Api.SubmitAsync(key, body, idempotencyKey: "order-17");
        using var b = await Api.SubmitAsync(key, body, idempotencyKey: "order-17");
        using var c = await Api.SubmitAsync(key, ApiClient.Identity(new float[16], 8), idempotencyKey: "order-17");

        var first = await a.Content.ReadFromJsonAsync<JsonElement>();
        var second = await b.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(first.GetProperty("id").GetString(), second.GetProperty("id").GetString());
        Assert.Equal("true", b.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(HttpStatusCode.UnprocessableEntity, c.StatusCode);
        Assert.Equal("idempotency_key_reused", (await c.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("type").GetString());

        using var list = await Api.GetAsync(key, "/v1/jobs");
        Assert.Single((await list.Content.ReadFromJsonAsync<JsonElement>()).EnumerateArray()); // one job, not two
    }

    /// <summary>Several statuses in the filter mean "any of" (not flags OR-ed into another status);
    /// an unknown one, or a number, is a 422 that names it.</summary>
    [Fact]
    public async Task AStatusFilterWithSeveralValuesMeansAnyOfThemAndABadOneIsRefused()
    {
        var (_, key, _) = await Api.CreateTenantAsync("pro");
        var done = await Api.SubmitOkAsync(key, ApiClient.Identity(new float[16], 4_401), wait: 30);
        Assert.Equal("succeeded", done.GetProperty("status").GetString());

        async Task<string[]> StatusesAsync(string filter)
        {
            using var response = await Api.GetAsync(key, $"/v1/jobs?status={filter}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return [.. (await response.Content.ReadFromJsonAsync<JsonElement>()).EnumerateArray().Select(j => j.GetProperty("status").GetString()!)];
        }

        Assert.Empty(await StatusesAsync("queued,running")); // "queued,running" used to parse as flags and match succeeded
        Assert.Equal(["succeeded"], await StatusesAsync("failed,succeeded"));
        Assert.Equal(["succeeded"], await StatusesAsync("SUCCEEDED"));
        foreach (var bad in new[] { "bogus", "2", "queued,nope", "" })
        {
            using var refused = await Api.GetAsync(key, $"/v1/jobs?status={bad}");
            Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.StatusCode);
            Assert.Equal("bad_parameter", (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("type").GetString());
        }
    }

    [Fact]
    public async Task AnotherTenantsJobIsNotFoundAndKeysAreChecked()
    {
        var (_, alice, _) = await Api.CreateTenantAsync("pro", "alice");
        var (_, bob, _) = await Api.CreateTenantAsync("pro", "bob");
        var job = await Api.SubmitOkAsync(alice, ApiClient.Identity(new float[16], 99), wait: 30);
        var id = job.GetProperty("id").GetString();

        foreach (var url in new[] { $"/v1/jobs/{id}", $"/v1/jobs/{id}/output", $"/v1/jobs/{id}/events" })
        {
            using var response = await Api.GetAsync(bob, url);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }

        using var cancel = await Api.SendAsync(new HttpRequestMessage(HttpMethod.Delete, $"/v1/jobs/{id}"), bob);
        Assert.Equal(HttpStatusCode.NotFound, cancel.StatusCode);
        using var noKey = await Api.Http.GetAsync($"/v1/jobs/{id}");
        Assert.Equal(HttpStatusCode.Unauthorized, noKey.StatusCode);
        using var badKey = await Api.GetAsync("ak_0000000000000000_forged", $"/v1/jobs/{id}");
        Assert.Equal(HttpStatusCode.Unauthorized, badKey.StatusCode);
        using var tenantAsAdmin = await Api.GetAsync(alice, "/admin/jobs");
        Assert.Equal(HttpStatusCode.Forbidden, tenantAsAdmin.StatusCode);
        using var own = await Api.GetAsync(alice, $"/v1/jobs/{id}/output");
        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
    }

    [Theory]
    [MemberData(nameof(BadSubmissionCases.All), MemberType = typeof(BadSubmissionCases))]
    public async Task BadSubmissionsGetTheirProblemAndCreateNoJob(string contentType, string body, HttpStatusCode status, string type)
    {
        var (_, key, _) = await Api.CreateTenantAsync("free");
        if (body == "HUGE")
        {
            body = JsonSerializer.Serialize(new { model = "segmentation", input = Convert.ToBase64String(new byte[3 * 1024 * 1024]) });
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/jobs") { Content = new StringContent(body, Encoding.UTF8) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        using var response = await Api.SendAsync(request, key);

        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(type, problem.GetProperty("type").GetString());
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("detail").GetString()));
        using var list = await Api.GetAsync(key, "/v1/jobs");
        Assert.Empty((await list.Content.ReadFromJsonAsync<JsonElement>()).EnumerateArray());
    }

    [Fact]
    public async Task EventsStreamQueuedRunningAndTheResult()
    {
        var (_, key, _) = await Api.CreateTenantAsync("enterprise");
        var job = await Api.SubmitOkAsync(key, new { model = "diffusion", parameters = new { steps = 60, seed = 31 } });
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/jobs/{job.GetProperty("id").GetString()}/events");
        using var response = await Api.SendAsync(request, key);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var text = await response.Content.ReadAsStringAsync(); // the stream ends with the final event

        var events = text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(e => e.Split('\n').Single(l => l.StartsWith("event: ", StringComparison.Ordinal))[7..]).ToList();
        Assert.Equal("succeeded", events[^1]);
        Assert.Contains("running", events);
        Assert.True(events.IndexOf("running") < events.Count - 1);
        Assert.Contains("\"output\":", text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries)[^1]);
    }

    [Fact]
    public async Task ADiffusionJobDrawsThePromptItWasGivenAndTheCacheKeyTellsPromptsApart()
    {
        var (_, key, _) = await Api.CreateTenantAsync("pro");
        var green = await Api.SubmitOkAsync(key, new { model = "diffusion", parameters = new { prompt = "Green  Triangle", seed = 9, steps = 8 } }, wait: 60);
        var same = await Api.SubmitOkAsync(key, new { model = "diffusion", parameters = new { prompt = "green triangle", seed = 9, steps = 8 } }, wait: 60);
        var red = await Api.SubmitOkAsync(key, new { model = "diffusion", parameters = new { prompt = "red triangle", seed = 9, steps = 8, guidance = 2.5 } }, wait: 60);

        Assert.Equal("succeeded", green.GetProperty("status").GetString());
        Assert.Equal("green triangle", green.GetProperty("output").GetProperty("prompt").GetString());
        Assert.True(same.GetProperty("cacheHit").GetBoolean()); // the same label, however written
        Assert.False(red.GetProperty("cacheHit").GetBoolean());
        Assert.Equal("red triangle", red.GetProperty("output").GetProperty("prompt").GetString());
        Assert.Equal(2.5, red.GetProperty("output").GetProperty("guidance").GetDouble());
    }

    [Fact]
    public async Task AQueuedJobCanBeCanceledAndAFinishedOneCannot()
    {
        var (_, key, _) = await Api.CreateTenantAsync("free");
        var done = await Api.SubmitOkAsync(key, ApiClient.Identity(new float[16], 55), wait: 30);
        using var late = await Api.SendAsync(new HttpRequestMessage(HttpMethod.Delete, $"/v1/jobs/{done.GetProperty("id").GetString()}"), key);
        Assert.Equal(HttpStatusCode.Conflict, late.StatusCode);

        var slow = await Api.SubmitOkAsync(key, new { model = "diffusion", parameters = new { steps = 200, seed = 77 } });
        var queued = await Api.SubmitOkAsync(key, new { model = "diffusion", parameters = new { steps = 3, seed = 78 } });
        using var cancel = await Api.SendAsync(new HttpRequestMessage(HttpMethod.Delete, $"/v1/jobs/{queued.GetProperty("id").GetString()}"), key);
        var canceled = await cancel.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        Assert.Equal("canceled", canceled.GetProperty("status").GetString());
        // 200 diffusion steps on a busy 2-core box can take well over a minute: wait long enough.
        Assert.Equal("succeeded", (await Api.WaitAsync(key, slow.GetProperty("id").GetString()!, seconds: 300)).GetProperty("status").GetString());
        Assert.Equal("canceled", (await Api.WaitAsync(key, queued.GetProperty("id").GetString()!)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task TheOpenApiDocumentDescribesTheJobsApi()
    {
        var doc = await Api.Http.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        var paths = doc.GetProperty("paths");
        Assert.True(paths.TryGetProperty("/v1/jobs", out var jobs));
        Assert.True(jobs.TryGetProperty("post", out var post));
        Assert.True(paths.TryGetProperty("/v1/jobs/{id}/events", out _));

        // Both encodings, with the parameter names the reader enforces, and every error status.
        var content = post.GetProperty("requestBody").GetProperty("content");
        var json = content.GetProperty("application/json").GetProperty("schema");
        var form = Resolve(doc, content.GetProperty("multipart/form-data").GetProperty("schema"));
        var parameters = Resolve(doc, json.GetProperty("properties").GetProperty("parameters"));
        var contract = new[] { "shape", "spacingXMm", "spacingYMm", "sliceThicknessMm", "steps", "seed", "prompt", "guidance" };
        Assert.Equal(contract.Order(), parameters.GetProperty("properties").EnumerateObject().Select(p => p.Name).Order());
        Assert.All(contract, name => Assert.True(form.GetProperty("properties").TryGetProperty(name, out _), name));
        Assert.Equal(["model"], json.GetProperty("required").EnumerateArray().Select(r => r.GetString()));
        var responses = post.GetProperty("responses").EnumerateObject().Select(r => r.Name).ToList();
        Assert.All(new[] { "400", "401", "402", "403", "413", "415", "422", "429", "503" }, code => Assert.Contains(code, responses));
    }

    private static JsonElement Resolve(JsonElement doc, JsonElement schema)
    {
        if (schema.TryGetProperty("$ref", out var reference))
        {
            return doc.GetProperty("components").GetProperty("schemas").GetProperty(reference.GetString()!.Split('/')[^1]);
        }

        // A nullable reference is written as anyOf [null, $ref] or oneOf.
        foreach (var combinator in new[] { "anyOf", "oneOf", "allOf" })
        {
            if (schema.TryGetProperty(combinator, out var options))
            {
                return Resolve(doc, options.EnumerateArray().First(o => o.TryGetProperty("$ref", out _) || o.TryGetProperty("properties", out _)));
            }
        }

        return schema;
    }
}

public sealed class JobsApiOnSqliteTests(SiloFactory factory) : JobsApiTests<SiloFactory>(factory), IClassFixture<SiloFactory>;

public sealed class JobsApiOnPostgresTests(PostgresSiloFactory factory) : JobsApiTests<PostgresSiloFactory>(factory), IClassFixture<PostgresSiloFactory>;

public static class BadSubmissionCases
{
    private const string Form = "multipart/form-data; boundary=XyZ";

    private static string Multipart(params (string Name, string Value)[] fields) =>
        string.Concat(fields.Select(f => $"--XyZ\r\nContent-Disposition: form-data; name=\"{f.Name}\"\r\n\r\n{f.Value}\r\n")) + "--XyZ--\r\n";

    public static TheoryData<string, string, HttpStatusCode, string> All => new()
    {
        { "application/json", "{not json", HttpStatusCode.BadRequest, "malformed_request" },
        { "application/json", """{"model":"segmentation","input":"%%%"}""", HttpStatusCode.BadRequest, "malformed_request" },
        { "application/json", """{"input":"AAAA"}""", HttpStatusCode.BadRequest, "malformed_request" },
        { "application/json", """{"model":"nope","input":"AAAA"}""", HttpStatusCode.UnprocessableEntity, "unknown_model" },
        { "application/json", """{"model":"diffusion","parameters":{"steps":0}}""", HttpStatusCode.UnprocessableEntity, "bad_parameter" },
        { "application/json", """{"model":"diffusion","parameters":{"steps":999}}""", HttpStatusCode.UnprocessableEntity, "invalid_input" }, // within the contract, over the model's own limit
        { "application/json", """{"model":"diffusion","parameters":{"steps":2.7}}""", HttpStatusCode.UnprocessableEntity, "bad_parameter" },
        { "application/json", """{"model":"diffusion","parameters":{"seed":1e30}}""", HttpStatusCode.UnprocessableEntity, "bad_parameter" },
        { "application/json", """{"model":"diffusion","parameters":{"steps":"2"}}""", HttpStatusCode.UnprocessableEntity, "bad_parameter" },
        { "application/json", """{"model":"diffusion","parameters":{"stpes":2}}""", HttpStatusCode.UnprocessableEntity, "unknown_fields" },
        { "application/json", """{"model":"diffusion","parameters":[2]}""", HttpStatusCode.UnprocessableEntity, "bad_parameter" },
        { "application/json", """{"model":"diffusion","parameters":{"prompt":"purple hexagon"}}""", HttpStatusCode.UnprocessableEntity, "invalid_input" },
        { "application/json", """{"model":"diffusion","parameters":{"prompt":42}}""", HttpStatusCode.UnprocessableEntity, "bad_parameter" },
        { "application/json", """{"model":"diffusion","parameters":{"guidance":-1}}""", HttpStatusCode.UnprocessableEntity, "bad_parameter" },
        { "application/json", """{"model":"diffusion","parameters":{"guidance":50}}""", HttpStatusCode.UnprocessableEntity, "invalid_input" }, // within the contract, over the model's 10
        { "application/json", """{"model":"segmentation","input":"AAAA","parameters":{"prompt":"red circle"}}""", HttpStatusCode.BadRequest, "unsupported_image" },
        { Form, Multipart(("model", "diffusion"), ("prompt", " ")), HttpStatusCode.UnprocessableEntity, "bad_parameter" },
        { "application/json", """{"model":"diffusion","Model":"diffusion"}""", HttpStatusCode.UnprocessableEntity, "unknown_fields" },
        { "application/json", """{"model":42}""", HttpStatusCode.UnprocessableEntity, "bad_parameter" },
        { "application/json", """[1,2]""", HttpStatusCode.BadRequest, "malformed_request" },
        { Form, Multipart(("model", "segmentation"), ("spacingX", "0.5")), HttpStatusCode.UnprocessableEntity, "unknown_fields" },
        { Form, Multipart(("model", "diffusion"), ("steps", "2.7")), HttpStatusCode.UnprocessableEntity, "bad_parameter" },
        { Form, Multipart(("model", "diffusion"), ("seed", "1e30")), HttpStatusCode.UnprocessableEntity, "bad_parameter" },
        { Form, Multipart(("model", "diffusion"), ("steps", "2"), ("steps", "3")), HttpStatusCode.UnprocessableEntity, "bad_parameter" },
        { Form, Multipart(("model", "diffusion"), ("steps", "2"), ("parameters", "{\"seed\":1}")), HttpStatusCode.UnprocessableEntity, "bad_parameter" },
        { "application/json", """{"model":"segmentation","input":"iVBORw0KGgoAAAANSUhEUgAA","contentType":"image/png"}""", HttpStatusCode.BadRequest, "unsupported_image" },
        { "application/json", """{"model":"segmentation","input":"AAAA","contentType":"image/gif"}""", HttpStatusCode.UnsupportedMediaType, "unsupported_image" },
        { "application/json", """{"model":"segmentation","input":"AAAA","contentType":"image/jpeg"}""", HttpStatusCode.BadRequest, "unsupported_image" },
        { "application/json", """{"model":"diffusion","webhookUrl":"http://169.254.169.254/latest/meta-data"}""", HttpStatusCode.UnprocessableEntity, "bad_webhook_url" },
        { "application/json", """{"model":"diffusion","webhookUrl":"http://[::ffff:10.0.0.1]/x"}""", HttpStatusCode.UnprocessableEntity, "bad_webhook_url" },
        { "application/json", """{"model":"identity","input":"AAAA","contentType":"application/octet-stream","parameters":{"shape":[1,1,16]}}""", HttpStatusCode.UnprocessableEntity, "invalid_input" },
        { "application/json", """{"model":"segmentation","input":"AAAA","parameters":{"spacingXMm":-1}}""", HttpStatusCode.UnprocessableEntity, "bad_parameter" },
        { "application/json", """{"model":"segmentation","input":"AAAA","parameters":{"spacingXMm":1e-40}}""", HttpStatusCode.UnprocessableEntity, "bad_parameter" }, // below a micron: not 0 ml
        { Form, Multipart(("model", "segmentation"), ("sliceThicknessMm", "0.0000001")), HttpStatusCode.UnprocessableEntity, "bad_parameter" },
        { "application/json", """{"model":"diffusion","parameters":{"prompt":"\ud800"}}""", HttpStatusCode.BadRequest, "malformed_request" }, // a lone surrogate
        { "application/json", """{"model":"diffusion","\udfff":1}""", HttpStatusCode.BadRequest, "malformed_request" },
        { "application/json", """{"model":"diffusion","webhookUrl":"https://\u202e.com/"}""", HttpStatusCode.UnprocessableEntity, "bad_webhook_url" }, // bidi in the host
        { "application/json", """{"model":"diffusion","webhookUrl":"https://exa\u200bmple.com/"}""", HttpStatusCode.UnprocessableEntity, "bad_webhook_url" },
        { Form, Multipart(("model", "diffusion"), ("webhookUrl", "https://\u202e.com/")), HttpStatusCode.UnprocessableEntity, "bad_webhook_url" },
        { "application/json", """{"model":"diffusion","webhookUrl":"ftp://x"}""", HttpStatusCode.UnprocessableEntity, "bad_webhook_url" },
        { "text/plain", "hello", HttpStatusCode.UnsupportedMediaType, "unsupported_media_type" },
        { "application/json", "HUGE", HttpStatusCode.RequestEntityTooLarge, "upload_too_large" },
    };
}
