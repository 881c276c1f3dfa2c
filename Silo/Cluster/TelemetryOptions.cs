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

    /// <summary>When set, /metrics answers only a request with <c>Authorization: Bearer</c> this
    /// token (401 otherwise).</summary>
    public string? MetricsToken { get; set; }

    /// <summary>When set (e.g. http://0.0.0.0:9464), the silo also listens there and /metrics is
    /// served only on that port (404 on the API's).</summary>
    public string? MetricsUrl { get; set; }

    /// <summary>Cluster mode only: serve /metrics on the API's port without a token (behind a
    /// network that already keeps strangers out). Off by default: a cluster silo with neither
    /// <see cref="MetricsToken"/> nor <see cref="MetricsUrl"/> answers /metrics with 403
    /// <c>metrics_closed</c>. Embedded mode (loopback) stays open.</summary>
    public bool MetricsOpen { get; set; }

    /// <summary>True when /metrics on the API's port must be refused: cluster mode, no token, no
    /// port of its own, and the operator did not say it is open.</summary>
    public bool MetricsClosed(bool clusterMode) =>
        clusterMode && !MetricsOpen && string.IsNullOrEmpty(MetricsToken) && string.IsNullOrWhiteSpace(MetricsUrl);

    /// <summary>The port of <see cref="MetricsUrl"/>, or null; a bad URL fails the start.</summary>
    public int? MetricsPort() =>
        string.IsNullOrWhiteSpace(MetricsUrl) ? null
        : Uri.TryCreate(MetricsUrl, UriKind.Absolute, out var url) && url.Scheme == "http" && !url.IsDefaultPort ? url.Port
        : throw new InvalidOperationException($"Telemetry:MetricsUrl must be an http URL with a port, e.g. http://0.0.0.0:9464; got '{MetricsUrl}'");

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
