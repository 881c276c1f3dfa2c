using System.Diagnostics.Metrics;
using Actors.Storage.Diagnostics;

namespace Actors.Storage.Tests.Diagnostics;

/// <summary>The exporter's label sets: keys sanitized and sorted, values escaped, numbers written
/// invariantly, a label set seen again added to the same series, from many threads.</summary>
public sealed class PrometheusExporterTests
{
    private static string Lines(string text, string name) =>
        string.Join('\n', text.Split('\n').Where(l => l.StartsWith(name, StringComparison.Ordinal)));

    [Fact]
    public void LabelsAreSortedSanitizedAndEscaped()
    {
        var prefix = $"test.{Guid.NewGuid():N}";
        using var meter = new Meter(prefix);
        using var exporter = new PrometheusExporter(prefix);
        var counter = meter.CreateCounter<long>(prefix + ".jobs", "{job}");

        counter.Add(1, new("tier", "pro"), new("http.route", "/v1/jobs/{id}"), new("ratio", 1.5));
        counter.Add(2, new("ratio", 1.5), new("tier", "pro"), new("http.route", "/v1/jobs/{id}")); // same set, other order
        counter.Add(5, new KeyValuePair<string, object?>("why", "a \"quoted\" \\ path\nand a line"));
        counter.Add(7, new KeyValuePair<string, object?>("code", 404), new("ok", false), new("none", null));

        var name = prefix.Replace('.', '_') + "_jobs_total";
        var lines = Lines(exporter.Render(), name).Split('\n');
        Assert.Contains($"{name}{{http_route=\"/v1/jobs/{{id}}\",ratio=\"1.5\",tier=\"pro\"}} 3", lines);
        Assert.Contains($"{name}{{why=\"a \\\"quoted\\\" \\\\ path\\nand a line\"}} 5", lines);
        Assert.Contains($"{name}{{code=\"404\",none=\"\",ok=\"False\"}} 7", lines);
        Assert.Equal(3, lines.Length);
    }

    [Fact]
    public async Task ManyLabelsLongValuesAndManyThreadsAreAllCounted()
    {
        var prefix = $"test.{Guid.NewGuid():N}";
        using var meter = new Meter(prefix);
        using var exporter = new PrometheusExporter(prefix);
        var histogram = meter.CreateHistogram<double>(prefix + ".wait", "s");
        var tags = Enumerable.Range(0, 20).Select(i => new KeyValuePair<string, object?>($"k{19 - i:00}", new string('v', 30))).ToArray();

        await Task.WhenAll(Enumerable.Range(0, 8).Select(t => Task.Run(() =>
        {
            for (var i = 0; i < 1000; i++)
            {
                histogram.Record(0.2, tags);
                histogram.Record(2, new KeyValuePair<string, object?>("thread", t % 2));
            }
        })));

        var name = prefix.Replace('.', '_') + "_wait_seconds";
        var text = exporter.Render();
        var longSet = string.Join(',', Enumerable.Range(0, 20).Select(i => $"k{i:00}=\"{new string('v', 30)}\""));
        Assert.Contains($"{name}_count{{{longSet}}} 8000\n", text, StringComparison.Ordinal);
        Assert.Contains($"{name}_bucket{{{longSet},le=\"0.25\"}} 8000\n", text, StringComparison.Ordinal);
        Assert.Contains($"{name}_count{{thread=\"0\"}} 4000\n", text, StringComparison.Ordinal);
        Assert.Contains($"{name}_count{{thread=\"1\"}} 4000\n", text, StringComparison.Ordinal);
    }
}
