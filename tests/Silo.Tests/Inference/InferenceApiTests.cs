using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Actors.Silo.Tests.Inference;

public sealed class InferenceApiTests(SiloFactory factory) : IClassFixture<SiloFactory>
{
    private static readonly string Samples = Path.Combine(TestPaths.Repo, "models", "classification", "samples");

    [Fact]
    public async Task ModelsAreListedWithTheirTasks()
    {
        var models = await factory.CreateClient().GetFromJsonAsync<JsonElement[]>("/v1/models");
        Assert.Equal(["classification", "diffusion", "identity", "segmentation"], models!.Select(m => m.GetProperty("name").GetString()));
        Assert.Equal("segmentation", models![3].GetProperty("task").GetString());
        Assert.Equal("tensor", models![2].GetProperty("task").GetString());
    }

    [Fact]
    public async Task TheHostSaysHowEachModelRuns()
    {
        var client = factory.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", SiloFactory.AdminKey);
        var host = await client.GetFromJsonAsync<JsonElement>("/admin/host");

        var runtime = host.GetProperty("runtime").EnumerateArray().ToArray();
        Assert.Equal(["classification", "diffusion", "identity", "segmentation"], runtime.Select(m => m.GetProperty("name").GetString()));
        foreach (var model in runtime)
        {
            var name = model.GetProperty("name").GetString()!;
            using var manifest = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(TestPaths.Repo, "models", name, "manifest.json")));
            // The demo manifests set no runtime for a CPU: plain float32 at the manifest's batch.
            Assert.Equal(manifest.RootElement.GetProperty("batch").GetProperty("maxBatchSize").GetInt32(), model.GetProperty("maxBatch").GetInt32());
            Assert.Equal("fp32", model.GetProperty("precision").GetString());
            Assert.False(model.GetProperty("cudaGraphs").GetBoolean());
            Assert.False(model.GetProperty("frozen").GetBoolean());
            Assert.Equal(0, model.GetProperty("graphsCaptured").GetInt32());
            Assert.Equal(JsonValueKind.Null, model.GetProperty("referenceError").ValueKind); // plain: no check needed
            Assert.Equal(JsonValueKind.Null, model.GetProperty("idleGapMicros").ValueKind); // on cpu a batch waits the max delay
        }
    }

    [Fact]
    public async Task TheDirectDoorNeedsTheAdminKey()
    {
        var response = await factory.CreateClient().PostAsync("/v1/models/diffusion/infer?seed=1&steps=2", new ByteArrayContent([]));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task ReadyOnceTheModelsAreLoaded()
    {
        var response = await factory.CreateClient().GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain("/", text, StringComparison.Ordinal); // no file path, no host:port/db
        Assert.Contains("\"status\":\"ready\"", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task APngIsClassified()
    {
        var samples = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(Samples, "samples.json"))).RootElement;
        var first = samples[0];
        var response = await Post("/v1/models/classification/infer", await File.ReadAllBytesAsync(Path.Combine(Samples, first.GetProperty("file").GetString()!)), "image/png");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("classification", body.GetProperty("task").GetString());
        foreach (var finding in body.GetProperty("findings").EnumerateArray())
        {
            var truth = first.GetProperty("findings").GetProperty(finding.GetProperty("label").GetString()!).GetBoolean();
            Assert.Equal(truth, finding.GetProperty("present").GetBoolean());
        }
    }

    [Fact]
    public async Task DiffusionReturnsTheSamePngForTheSameSeed()
    {
        var a = await Post("/v1/models/diffusion/infer?seed=5&steps=6&format=png", [], null);
        var b = await Post("/v1/models/diffusion/infer?seed=5&steps=6&format=png", [], null);
        Assert.Equal("image/png", a.Content.Headers.ContentType?.MediaType);
        Assert.Equal(await a.Content.ReadAsByteArrayAsync(), await b.Content.ReadAsByteArrayAsync());
    }

    [Theory]
    [InlineData("/v1/models/segmentation/infer", "image/png", "corrupt", HttpStatusCode.BadRequest, "unsupported_image")]
    [InlineData("/v1/models/segmentation/infer", "image/gif", "png", HttpStatusCode.UnsupportedMediaType, "unsupported_image")]
    [InlineData("/v1/models/segmentation/infer?shape=3,128,128", "application/octet-stream", "raw3", HttpStatusCode.UnprocessableEntity, "invalid_input")]
    [InlineData("/v1/models/nope/infer", "image/png", "png", HttpStatusCode.NotFound, "unknown_model")]
    [InlineData("/v1/models/diffusion/infer?steps=abc", null, "none", HttpStatusCode.UnprocessableEntity, "bad_parameter")]
    [InlineData("/v1/models/diffusion/infer?steps=0", null, "none", HttpStatusCode.UnprocessableEntity, "bad_parameter")]
    [InlineData("/v1/models/diffusion/infer?steps=2.7", null, "none", HttpStatusCode.UnprocessableEntity, "bad_parameter")]
    [InlineData("/v1/models/diffusion/infer?steps=999", null, "none", HttpStatusCode.UnprocessableEntity, "invalid_input")]
    [InlineData("/v1/models/segmentation/infer?spacingX=0.5", "image/png", "png", HttpStatusCode.UnprocessableEntity, "unknown_fields")]
    [InlineData("/v1/models/classification/infer", "image/png", "huge", HttpStatusCode.RequestEntityTooLarge, "upload_too_large")]
    public async Task BadRequestsGetProblemDetails(string url, string? contentType, string body, HttpStatusCode status, string? type)
    {
        var png = await File.ReadAllBytesAsync(Path.Combine(Samples, "xray_00.png"));
        byte[] bytes = body switch
        {
            "corrupt" => png.Take(png.Length - 30).ToArray(),
            "png" => png,
            "raw3" => new byte[3 * 128 * 128 * 4],
            "huge" => new byte[3 * 1024 * 1024],
            _ => [],
        };

        var response = await Post(url, bytes, contentType);

        Assert.Equal(status, response.StatusCode);
        if (type is not null)
        {
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal(type, problem.GetProperty("type").GetString());
            Assert.False(string.IsNullOrEmpty(problem.GetProperty("detail").GetString()));
        }
    }

    private async Task<HttpResponseMessage> Post(string url, byte[] body, string? contentType)
    {
        var content = new ByteArrayContent(body);
        if (contentType is not null)
        {
            content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        }

        var client = factory.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", SiloFactory.AdminKey);
        return await client.PostAsync(url, content);
    }
}
