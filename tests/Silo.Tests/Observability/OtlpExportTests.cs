using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Actors.Silo.Tests.Cluster;

namespace Actors.Silo.Tests.Observability;

/// <summary>Optional OTLP export: a silo with Telemetry:OtlpEndpoint posts its metrics as OTLP/HTTP
/// protobuf to a collector (here a loopback receiver that records what arrives).</summary>
public sealed class OtlpExportTests
{
    [Fact]
    public async Task TheSiloPostsItsMetricsAsOtlpProtobufToTheCollector()
    {
        using var collector = new OtlpCollector();
        using var silo = await SiloProcess.StartAsync(new Dictionary<string, string>
        {
            ["Cluster:DataPath"] = Directory.CreateTempSubdirectory("actors-otlp-").FullName,
            ["Telemetry:OtlpEndpoint"] = collector.Url.TrimEnd('/'),
            ["Telemetry:ExportSeconds"] = "1",
        });
        var api = new ApiClient(silo.Http);
        var (_, key, _) = await api.CreateTenantAsync("pro");
        await api.WaitAsync(key, (await api.SubmitOkAsync(key, new { model = "diffusion", parameters = new { steps = 2, seed = 1 } })).GetProperty("id").GetString()!);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!collector.Received.Any(r => Has(r.Body, "actors.jobs.finished")) && clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(200);
        }

        var exports = collector.Received.ToList();
        Assert.NotEmpty(exports);
        Assert.All(exports, r => Assert.Equal(("/v1/metrics", "application/x-protobuf"), (r.Path, r.ContentType)));
        Assert.Contains(exports, r => Has(r.Body, "actors.jobs.finished"));     // our meter
        Assert.Contains(exports, r => Has(r.Body, "actors.instances"));         // a store-backed gauge (control role)
        Assert.Contains(exports, r => Has(r.Body, "http.server.request.duration")); // ASP.NET Core's
        Assert.Contains(exports, r => Has(r.Body, "actors-silo"));              // the resource's service name
    }

    private static bool Has(byte[] body, string text) => body.AsSpan().IndexOf(Encoding.UTF8.GetBytes(text)) >= 0;

    private sealed class OtlpCollector() : LoopbackHttpServer("/otlp/", concurrent: true)
    {
        public ConcurrentQueue<(string Path, string? ContentType, byte[] Body)> Received { get; } = new();

        protected override async Task HandleAsync(HttpListenerContext context)
        {
            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            Received.Enqueue((context.Request.Url!.AbsolutePath["/otlp".Length..], context.Request.ContentType, body.ToArray()));
            context.Response.StatusCode = (int)HttpStatusCode.OK;
            context.Response.ContentType = "application/x-protobuf";
            context.Response.Close();
        }
    }
}
