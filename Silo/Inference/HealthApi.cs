namespace Actors.Silo.Inference;

internal static class HealthApi
{
    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapGet("/health/live", () => TypedResults.Ok(new { status = "live" }));
        app.MapGet("/health/ready", (EngineHost host) => host.Ready
            ? Results.Ok(new { status = "ready", device = host.Engine.Device, models = host.Engine.Models.Count })
            : Results.Problem(title: "not ready", detail: "models are still loading", statusCode: StatusCodes.Status503ServiceUnavailable));
        return app;
    }
}
