using System.Diagnostics.Metrics;
using Actors.Client.Api.Auth;
using Actors.Client.Api.Models;
using Actors.Grains;
using Actors.Grains.Instances;
using Actors.Storage.Queue;
using Actors.Grains.Diagnostics;

namespace Actors.Silo.Cluster;

/// <summary>/metrics (OpenTelemetry's Prometheus exporter, see <see cref="MetricsRecording"/>), the
/// switch that turns recording off and on, and the refresher that reads the store-backed gauges
/// (queue depth per model and tier, instances by state and GPU type, cost) every few seconds on
/// control silos, so a scrape never waits on the store.</summary>
internal static partial class MetricsHosting
{
    public static IServiceCollection AddMetricsExport(this IServiceCollection services)
    {
        services.AddOptions<TelemetryOptions>().BindConfiguration(TelemetryOptions.Section);
        services.AddSingleton<MetricsRecording>();
        services.AddHostedService<GaugeRefresher>();
        return services;
    }

    public static IEndpointRouteBuilder MapMetrics(this IEndpointRouteBuilder app)
    {
        app.MapGet("/metrics", (HttpContext context, MetricsRecording recording, Microsoft.Extensions.Options.IOptions<TelemetryOptions> telemetry,
                Microsoft.Extensions.Options.IOptions<ClusterOptions> cluster) =>
            {
                var o = telemetry.Value;
                if (o.MetricsClosed(cluster.Value.IsPostgres))
                {
                    return Results.Problem(title: "metrics closed", statusCode: StatusCodes.Status403Forbidden, type: "metrics_closed",
                            detail: "a cluster silo does not show its metrics to anyone who can reach it: set Telemetry:MetricsToken (Prometheus sends it as a bearer token), " +
                                    "Telemetry:MetricsUrl (a port of their own, bound where you say), or Telemetry:MetricsOpen=true; see docs/observability.md")
                        .ExecuteAsync(context);
                }

                if (o.MetricsPort() is { } port && context.Connection.LocalPort != port)
                {
                    return Results.Problem(title: "not found", detail: "metrics are served on their own port (Telemetry:MetricsUrl)", statusCode: StatusCodes.Status404NotFound, type: "not_found")
                        .ExecuteAsync(context);
                }

                if (!string.IsNullOrEmpty(o.MetricsToken) && !TokenMatches(context.Request, o.MetricsToken))
                {
                    context.Response.Headers.WWWAuthenticate = "Bearer";
                    return Results.Problem(title: "unauthorized", detail: "send 'Authorization: Bearer <metrics token>' (Telemetry:MetricsToken)", statusCode: StatusCodes.Status401Unauthorized, type: "unauthorized")
                        .ExecuteAsync(context);
                }

                return recording.ScrapeAsync(context);
            })
            .WithTags("health").WithSummary("Prometheus metrics (a bearer token and its own port when configured)");

        // Switch recording off and on (to measure what observing costs); admin only.
        var admin = app.MapGroup("/admin/metrics").WithTags("admin");
        admin.RequireAdminKey();
        admin.MapPut("/recording", (RecordingBody body, MetricsRecording recording) =>
        {
            if (body.Enabled is not { } enabled)
            {
                return Results.Problem(title: "malformed request", detail: "'enabled' (true or false) is required", statusCode: StatusCodes.Status400BadRequest, type: "malformed_request");
            }

            recording.Set(enabled);
            return Results.Ok(new { enabled });
        });
        return app;
    }

    internal sealed record RecordingBody(bool? Enabled);

    /// <summary>Adds <see cref="TelemetryOptions.MetricsUrl"/> to the addresses the silo listens on.</summary>
    public static void ListenForMetrics(this WebApplicationBuilder builder)
    {
        var telemetry = builder.Configuration.GetSection(TelemetryOptions.Section).Get<TelemetryOptions>() ?? new TelemetryOptions();
        if (telemetry.MetricsPort() is null)
        {
            return;
        }

        var urls = builder.Configuration["urls"] is { Length: > 0 } configured ? configured : "http://localhost:5000";
        builder.WebHost.UseUrls($"{urls};{telemetry.MetricsUrl}");
    }

    private static bool TokenMatches(HttpRequest request, string token)
    {
        var header = request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) &&
               System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
                   System.Text.Encoding.UTF8.GetBytes(header[7..].Trim()), System.Text.Encoding.UTF8.GetBytes(token));
    }

    private sealed partial class GaugeRefresher(MetricsRecording recording, IJobQueue queue, InstanceDirectory directory, ModelCatalog catalog,
        Microsoft.Extensions.Options.IOptions<ClusterOptions> options, ILogger<GaugeRefresher> logger) : BackgroundService
    {
        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            // Taking the recording here starts it (and its listener) when the host starts, before
            // the first measurement, not at the first scrape.
            _ = recording.Enabled;

            // The store-backed gauges describe the cluster, not this silo: only control silos
            // report them, so sums over silos in Prometheus do not count them more than once.
            if (!options.Value.Has("control"))
            {
                return;
            }
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(2));
            do
            {
                try
                {
                    await RefreshAsync(stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    LogFailed(logger, e);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }

        private async Task RefreshAsync(CancellationToken ct)
        {
            var depth = new List<Measurement<long>>();
            foreach (var model in catalog.All.Select(m => m.Name).Order(StringComparer.Ordinal))
            {
                var byTier = await queue.DepthAsync(model, ct);
                foreach (var tier in Enum.GetValues<Grains.Tenants.Tier>())
                {
                    depth.Add(new(byTier.GetValueOrDefault((int)tier), new("model", model), new("tier", tier.ToString().ToLowerInvariant())));
                }
            }

            var snapshots = await directory.SnapshotsAsync(ct);

            var instances = snapshots.GroupBy(s => (s.State, s.GpuType))
                .Select(g => new Measurement<long>(g.Count(), new("state", g.Key.State.ToString().ToLowerInvariant()), new("gpu_type", g.Key.GpuType)))
                .ToList();
            var accrued = snapshots.Select(s => new Measurement<double>((double)s.AccruedUsd, new("instance", s.InstanceId), new("gpu_type", s.GpuType))).ToList();
            var rate = new List<Measurement<double>> { new((double)snapshots.Sum(s => s.Rates.For(s.State))) };
            var health = snapshots.SelectMany(s => Enum.GetValues<InstanceHealth>().Select(h =>
                new Measurement<long>(s.Health == h ? 1 : 0, new("instance", s.InstanceId), new("health", h.ToString().ToLowerInvariant())))).ToList();
            ActorsMetrics.Gauges.Set(depth, instances, accrued, rate, health);
        }

        [LoggerMessage(Level = LogLevel.Warning, Message = "Reading gauges from the store failed")]
        private static partial void LogFailed(ILogger logger, Exception e);
    }
}
