using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace Actors.Silo.Cluster;

/// <summary>Section "Telemetry": optional OTLP export of the same meters /metrics shows, through the
/// OpenTelemetry SDK (OTLP over HTTP/protobuf to <c>{OtlpEndpoint}/v1/metrics</c>, every
/// <see cref="ExportSeconds"/>). Off unless an endpoint is set.</summary>
public sealed class TelemetryOptions
{
    public const string Section = "Telemetry";

    /// <summary>Base URL of an OpenTelemetry collector's OTLP/HTTP receiver, e.g. http://127.0.0.1:4318.</summary>
    public string? OtlpEndpoint { get; set; }

    public double ExportSeconds { get; set; } = 15;
}

internal static class OtlpExport
{
    public static WebApplicationBuilder AddOtlpExport(this WebApplicationBuilder builder, string siloRoles)
    {
        var options = builder.Configuration.GetSection(TelemetryOptions.Section).Get<TelemetryOptions>() ?? new TelemetryOptions();
        if (string.IsNullOrWhiteSpace(options.OtlpEndpoint))
        {
            return builder;
        }

        if (!Uri.TryCreate(options.OtlpEndpoint, UriKind.Absolute, out var endpoint) || endpoint.Scheme is not ("http" or "https") || options.ExportSeconds <= 0)
        {
            throw new InvalidOperationException($"Telemetry:OtlpEndpoint must be an http(s) URL and Telemetry:ExportSeconds positive; got '{options.OtlpEndpoint}', {options.ExportSeconds}");
        }

        builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("actors-silo").AddAttributes([new("actors.silo.roles", siloRoles)]))
            .WithMetrics(metrics =>
            {
                foreach (var meter in MetricsHosting.Meters)
                {
                    metrics.AddMeter(meter);
                }

                metrics.AddOtlpExporter((exporter, reader) =>
                {
                    exporter.Protocol = OtlpExportProtocol.HttpProtobuf;
                    exporter.Endpoint = new Uri(endpoint, endpoint.AbsolutePath.TrimEnd('/') + "/v1/metrics");
                    reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = (int)(options.ExportSeconds * 1000);
                });
            });
        return builder;
    }
}
