using Actors.Storage;
using Actors.Silo.Inference;
using Microsoft.Extensions.Options;

namespace Actors.Silo.Cluster;

/// <summary>/health/live (the process answers) and /health/ready (the store answers and, on a
/// gpu silo, the models are loaded). Anyone may ask, so the answers say ready or not and why,
/// but name no file, host or silo address (the store by its kind only).</summary>
internal static class HealthApi
{
    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapGet("/health/live", () => TypedResults.Ok(new { status = "live" })).WithTags("health");
        app.MapGet("/health/ready", ReadyAsync).WithTags("health");
        return app;
    }

    private static async Task<IResult> ReadyAsync(IServiceProvider services, ClusterStore store, SiloIdentity silo, IOptions<ClusterOptions> options, CancellationToken ct)
    {
        if (!await store.PingAsync(ct))
        {
            return Results.Problem(title: "not ready", detail: $"the store ({store.Kind}) does not answer", statusCode: StatusCodes.Status503ServiceUnavailable, type: "store_unreachable");
        }

        if (options.Value.Has("gpu"))
        {
            var engine = services.GetRequiredService<EngineHost>();
            if (services.GetService<Gpu.GpuHost>() is { Phase: Gpu.HostPhase.Warm or Gpu.HostPhase.Stopping } host)
            {
                return Results.Problem(title: "not ready", detail: $"this GPU host is {host.Phase.ToString().ToLowerInvariant()} (no models loaded): resume it to serve (POST /admin/host/resume)",
                    statusCode: StatusCodes.Status503ServiceUnavailable, type: "instance_warm");
            }

            if (engine.Current is not { } loaded)
            {
                return Results.Problem(title: "not ready", detail: "models are still loading", statusCode: StatusCodes.Status503ServiceUnavailable, type: "models_loading");
            }

            return Results.Ok(new { status = "ready", roles = silo.Roles, store = store.Kind, device = loaded.Device, models = loaded.Models.Select(m => m.Name).ToArray() });
        }

        return Results.Ok(new { status = "ready", roles = silo.Roles, store = store.Kind });
    }
}
