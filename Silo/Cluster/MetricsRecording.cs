using Actors.Grains.Diagnostics;
using Actors.Inference.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace Actors.Silo.Cluster;

/// <summary>The silo's OpenTelemetry meter provider: our meters (<c>Actors</c>,
/// <c>Actors.Inference</c>), ASP.NET Core's and the runtime's, aggregated by the SDK and served at
/// /metrics by its Prometheus exporter (optionally also pushed over OTLP). Recording can be switched
/// off and on at run time (to measure what observing costs): off disposes the provider, so nothing
/// listens to the instruments and ASP.NET Core stops measuring; on builds a new one, whose counters
/// start again from zero (a counter reset, which Prometheus' rate() handles).</summary>
internal sealed class MetricsRecording : IDisposable
{
    /// <summary>Histogram buckets for durations in seconds: 5 ms to 5 min.</summary>
    public static readonly double[] SecondsBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

    private readonly Lock _gate = new();
    private readonly IServiceProvider _services;
    private readonly string _roles;
    private readonly Uri? _otlp;
    private readonly TelemetryOptions _telemetry;
    private Recording? _current;

    public MetricsRecording(IServiceProvider services, Microsoft.Extensions.Options.IOptions<ClusterOptions> cluster,
        Microsoft.Extensions.Options.IOptions<TelemetryOptions> telemetry)
    {
        _services = services;
        _roles = cluster.Value.Roles;
        _telemetry = telemetry.Value;
        _otlp = _telemetry.OtlpMetricsUrl();
        _current = Build();
    }

    public bool Enabled => Volatile.Read(ref _current) is not null;

    public void Set(bool enabled)
    {
        lock (_gate)
        {
            if (enabled && _current is null)
            {
                Volatile.Write(ref _current, Build());
            }
            else if (!enabled && _current is { } running)
            {
                Volatile.Write(ref _current, null);
                running.Provider.Dispose();
            }
        }
    }

    /// <summary>GET /metrics: the exporter's middleware of the provider recording now.</summary>
    public Task ScrapeAsync(HttpContext context)
    {
        if (Volatile.Read(ref _current) is not { } recording)
        {
            return Results.Problem(title: "metrics recording off", detail: "recording was switched off (PUT /admin/metrics/recording)",
                statusCode: StatusCodes.Status503ServiceUnavailable, type: "metrics_recording_off").ExecuteAsync(context);
        }

        return recording.Scrape(context);
    }

    public void Dispose() => Set(false);

    private Recording Build()
    {
        var builder = Sdk.CreateMeterProviderBuilder()
            .ConfigureResource(r => r.AddService("actors-silo").AddAttributes([new("actors.silo.roles", _roles)]))
            .AddMeter(ActorsMetrics.MeterName, InferenceMetrics.MeterName)
            .AddAspNetCoreInstrumentation()
            .AddRuntimeInstrumentation()
            .AddView(instrument => instrument is System.Diagnostics.Metrics.Histogram<double> && instrument.Unit == "s" &&
                instrument.Meter.Name is ActorsMetrics.MeterName or InferenceMetrics.MeterName
                    ? new ExplicitBucketHistogramConfiguration { Boundaries = SecondsBuckets }
                    : null)
            .AddView(instrument => instrument.Name.StartsWith("aspnetcore.memory_pool.", StringComparison.Ordinal) || instrument.Name == "aspnetcore.routing.match_attempts"
                ? MetricStreamConfiguration.Drop // per buffer and per request, read by no alert or panel: not worth what recording them costs
                : null)
            .AddView(instrument => instrument.Name.EndsWith(".count", StringComparison.Ordinal) && !IsCounterOrHistogram(instrument)
                ? new MetricStreamConfiguration { Name = instrument.Name[..^".count".Length] + ".number" }
                : null)
            .AddPrometheusExporter(o =>
            {
                o.ScrapeResponseCacheDurationMilliseconds = 0; // a scrape sees what happened just before it
                o.ScopeInfoEnabled = false; // series keep the labels they are recorded with
            });
        if (_otlp is { } endpoint)
        {
            builder.AddOtlpExporter((exporter, reader) =>
            {
                exporter.Protocol = OtlpExportProtocol.HttpProtobuf;
                exporter.Endpoint = endpoint;
                reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = (int)(_telemetry.ExportSeconds * 1000);
            });
        }

        var provider = builder.Build();

        // The exporter's own middleware, in a pipeline of its own bound to this provider.
        var pipeline = new ApplicationBuilder(_services);
        pipeline.UseOpenTelemetryPrometheusScrapingEndpoint(provider, predicate: _ => true, path: null, configureBranchedPipeline: null, optionsName: null);
        return new Recording(provider, pipeline.Build());
    }

    /// <summary>A gauge named "….count" (the runtime's CPU, assembly and timer counts) would be
    /// exported as "…_count", which Prometheus reserves for histograms and summaries: it is
    /// exported as "…_number" instead, as promtool asks.</summary>
    private static bool IsCounterOrHistogram(System.Diagnostics.Metrics.Instrument instrument) =>
        instrument.GetType() is { IsGenericType: true } type && type.GetGenericTypeDefinition() is var d &&
        (d == typeof(System.Diagnostics.Metrics.Counter<>) || d == typeof(System.Diagnostics.Metrics.ObservableCounter<>) || d == typeof(System.Diagnostics.Metrics.Histogram<>));

    private sealed record Recording(MeterProvider Provider, RequestDelegate Scrape);
}
