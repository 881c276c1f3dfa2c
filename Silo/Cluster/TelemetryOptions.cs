namespace Actors.Silo.Cluster;

/// <summary>Section "Telemetry": optional OTLP export of the same meters /metrics shows (OTLP over
/// HTTP/protobuf to <c>{OtlpEndpoint}/v1/metrics</c>, every <see cref="ExportSeconds"/>). Off
/// unless an endpoint is set.</summary>
public sealed class TelemetryOptions
{
    public const string Section = "Telemetry";

    /// <summary>Base URL of an OpenTelemetry collector's OTLP/HTTP receiver, e.g. http://127.0.0.1:4318.</summary>
    public string? OtlpEndpoint { get; set; }

    public double ExportSeconds { get; set; } = 15;

    /// <summary>The OTLP metrics URL, or null when export is off; a bad setting fails the start.</summary>
    public Uri? OtlpMetricsUrl()
    {
        if (string.IsNullOrWhiteSpace(OtlpEndpoint))
        {
            return null;
        }

        if (!Uri.TryCreate(OtlpEndpoint, UriKind.Absolute, out var endpoint) || endpoint.Scheme is not ("http" or "https") || ExportSeconds <= 0)
        {
            throw new InvalidOperationException($"Telemetry:OtlpEndpoint must be an http(s) URL and Telemetry:ExportSeconds positive; got '{OtlpEndpoint}', {ExportSeconds}");
        }

        return new Uri(endpoint, endpoint.AbsolutePath.TrimEnd('/') + "/v1/metrics");
    }
}
