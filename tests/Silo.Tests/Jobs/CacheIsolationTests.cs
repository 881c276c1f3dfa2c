using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Actors.Silo.Gpu;
using Microsoft.Extensions.DependencyInjection;

namespace Actors.Silo.Tests.Jobs;

/// <summary>A silo whose models folder holds the identity model twice: as it ships (results answer
/// the same tenant only) and as <c>public-identity</c>, whose manifest shares its cache
/// (<c>"cache": {"scope": "shared"}</c>, for public inputs).</summary>
public sealed class CacheScopeSiloFactory : SiloFactory
{
    public string ModelsPath { get; } = MakeModels();

    protected override IEnumerable<(string Key, string Value)> Settings() => [("Api:ModelsPath", ModelsPath), ("Inference:ModelsPath", ModelsPath)];

    private static string MakeModels()
    {
        var root = Directory.CreateTempSubdirectory("actors-cache-models-").FullName;
        foreach (var (name, shared) in new[] { ("identity", false), ("public-identity", true) })
        {
            var source = Path.Combine(TestPaths.Repo, "models", "identity");
            var target = Path.Combine(root, name);
            foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
            {
                var to = Path.Combine(target, Path.GetRelativePath(source, file));
                Directory.CreateDirectory(Path.GetDirectoryName(to)!);
                File.Copy(file, to);
            }

            var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(target, "manifest.json")))!;
            manifest["name"] = name;
            if (shared)
            {
                manifest["cache"] = new JsonObject { ["scope"] = "shared" };
            }

            File.WriteAllText(Path.Combine(target, "manifest.json"), manifest.ToJsonString());
        }

        return root;
    }
}

/// <summary>The result cache tells no tenant about another's data: the same bytes from another
/// tenant are a miss, run on a GPU and answered exactly like a first request; only a model whose
/// manifest shares its cache answers one tenant from another's result, and then the hitting
/// tenant gets its own copy of the output.</summary>
public sealed class CacheIsolationTests(CacheScopeSiloFactory factory) : IClassFixture<CacheScopeSiloFactory>
{
    private ApiClient Api => new(factory.CreateClient());

    private long GpuRuns => factory.Services.GetRequiredService<GpuHost>().Completed;

    private static object Job(string model, float[] values) => new
    {
        model,
        input = Convert.ToBase64String(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray()),
        contentType = "application/octet-stream",
        parameters = new { shape = new[] { 1, 1, 16 } },
    };

    private Task<long> SettledGpuRunsAsync() => GpuRunCount.SettledAsync(() => GpuRuns);

    [Fact]
    public async Task AnotherTenantsIdenticalScanIsAMissThatRunsLikeAFirstRequest()
    {
        var (_, a, _) = await Api.CreateTenantAsync("pro", "hospital A");
        var (_, b, _) = await Api.CreateTenantAsync("pro", "hospital B");
        var scan = Enumerable.Range(0, 16).Select(i => (float)Math.Sin(i * 0.37)).ToArray(); // the same bytes, sent by both

        var first = await Api.SubmitOkAsync(a, Job("identity", scan), wait: 30);
        var again = await Api.SubmitOkAsync(a, Job("identity", scan), wait: 30);
        var runs = await SettledGpuRunsAsync();
        var other = await Api.SubmitOkAsync(b, Job("identity", scan), wait: 30);
        Assert.Equal("succeeded", other.GetProperty("status").GetString());

        // A's repeat is its own hit; B's identical request tells B nothing: not a hit, it ran on a
        // host, its answer has the shape and values of A's first (a miss) answer.
        Assert.Equal((false, true), (first.GetProperty("cacheHit").GetBoolean(), again.GetProperty("cacheHit").GetBoolean()));
        Assert.False(other.GetProperty("cacheHit").GetBoolean());
        Assert.NotEqual(JsonValueKind.Null, other.GetProperty("instance").ValueKind);
        Assert.Equal(runs + 1, await SettledGpuRunsAsync());
        Assert.Equal(first.GetProperty("output").ToString(), other.GetProperty("output").ToString());
        Assert.Equal(Shape(first), Shape(other));

        // And B's own repeat is then B's hit.
        var bAgain = await Api.SubmitOkAsync(b, Job("identity", scan), wait: 30);
        Assert.True(bAgain.GetProperty("cacheHit").GetBoolean());
    }

    [Fact]
    public async Task AModelThatSharesItsCacheAnswersAnotherTenantWithItsOwnCopy()
    {
        var (_, a, _) = await Api.CreateTenantAsync("pro", "publisher");
        var (_, b, _) = await Api.CreateTenantAsync("pro", "reader");
        var reel = Enumerable.Range(0, 16).Select(i => i * 0.25f + 3).ToArray();

        var first = await Api.SubmitOkAsync(a, Job("public-identity", reel), wait: 30);
        var runs = await SettledGpuRunsAsync();
        var shared = await Api.SubmitOkAsync(b, Job("public-identity", reel), wait: 30);
        Assert.Equal((false, true), (first.GetProperty("cacheHit").GetBoolean(), shared.GetProperty("cacheHit").GetBoolean()));
        Assert.Equal(JsonValueKind.Null, shared.GetProperty("instance").ValueKind); // never reached a host
        Assert.Equal(runs, GpuRuns);
        Assert.Equal(first.GetProperty("output").ToString(), shared.GetProperty("output").ToString());

        // A erases its job: B's answer is B's own copy, and stays readable.
        using (var erase = new HttpRequestMessage(HttpMethod.Delete, $"/v1/jobs/{first.GetProperty("id").GetString()}/data"))
        {
            using var erased = await Api.SendAsync(erase, a);
            Assert.True(erased.IsSuccessStatusCode, await erased.Content.ReadAsStringAsync());
        }

        using var output = await Api.GetAsync(b, $"/v1/jobs/{shared.GetProperty("id").GetString()}/output");
        Assert.Equal(HttpStatusCode.OK, output.StatusCode);
        Assert.Equal(reel, (await output.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("values").EnumerateArray().Select(v => v.GetSingle()));
    }

    /// <summary>The answer's field names, nested: what a client could compare besides values.</summary>
    private static string Shape(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => "{" + string.Join(",", e.EnumerateObject().Select(p => p.Name + ":" + Shape(p.Value))) + "}",
        JsonValueKind.Array => "[" + (e.GetArrayLength() > 0 ? Shape(e[0]) : "") + "]",
        JsonValueKind.Null => "null",
        _ => e.ValueKind.ToString(),
    };
}
