using Actors.Client.Api;
using Actors.Silo.Cluster;
using Actors.Silo.Commands;
using Actors.Silo.Fleet;
using Actors.Silo.Inference;

if (args.Length > 0 && SiloCommands.Handles(args[0]))
{
    return await SiloCommands.RunAsync(args);
}

var builder = WebApplication.CreateBuilder(args);
var roles = builder.AddSiloRoles();
if (roles.Has("gpu"))
{
    builder.AddInferenceEngine();
}

builder.AddCluster(roles);
if (roles.Has("api"))
{
    builder.Services.AddHostedService<Actors.Client.Api.Dashboard.DashboardSampler>();
}

builder.Services.AddClientApi();
builder.Services.AddMetricsExport();
builder.ListenForMetrics();
builder.Services.AddProblemDetails();
// A body that does not bind is a 400 ProblemDetails in every environment (Development would throw: a 500).
builder.Services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(o => o.ThrowOnBadRequest = false);

var app = builder.Build();
app.UseExceptionHandler();
app.UseStatusCodePages(StatusCodeProblems.WriteAsync); // an error without a body (routing, binding) gets ProblemDetails too
app.UseRouteValueGuard();
app.MapHealth();
app.MapMetrics();
if (roles.Has("api"))
{
    app.MapClientApi();
    app.UseDashboardFiles();
    app.MapOrleansDashboardBehindAdminKey();
}

if (roles.Has("gpu"))
{
    app.MapInference();
    app.MapHostControl();
}

await app.RunAsync();
return 0;

/// <summary>Entry point, visible to tests.</summary>
public partial class Program;
