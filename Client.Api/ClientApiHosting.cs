using Actors.Client.Api.Admin;
using Actors.Client.Api.Auth;
using Actors.Client.Api.Billing;
using Actors.Client.Api.Jobs;
using Actors.Client.Api.Models;
using Actors.Client.Api.Webhooks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Actors.Client.Api;

/// <summary>Registers and maps the client HTTP API (jobs, models, admin, OpenAPI).</summary>
public static class ClientApiHosting
{
    public static IServiceCollection AddClientApi(this IServiceCollection services)
    {
        services.AddOptions<ClientApiOptions>().BindConfiguration("Api")
            .Validate(o => o.MaxUploadBytes > 0 && o.MaxVolumeBytes > 0 && o.MaxVolumeVoxelBytes > 0 && o.MaxWaitSeconds >= 0 && o.AuthCacheSeconds >= 0 && o.MaxImagePixels > 0, "Api options out of range")
            .ValidateOnStart();
        services.AddSingleton<ApiKeyCallers>();
        services.AddSingleton<ModelCatalog>();
        services.AddSingleton<JobSubmitter>();
        services.AddSingleton<PoolGate>();
        services.AddSingleton<Dashboard.DashboardAlerts>();
        services.AddSingleton<Dashboard.DashboardData>();
        services.AddSingleton<JobReader>();
        services.AddSingleton<QueueEta>();
        services.AddSingleton<WebhookDispatcher>();
        services.AddOptions<WebhookOptions>().BindConfiguration(WebhookOptions.Section);
        services.AddSingleton<WebhookDestinations>();
        services.AddHttpClient("webhooks", c => c.Timeout = TimeSpan.FromSeconds(10))
            .ConfigurePrimaryHttpMessageHandler(sp => new SocketsHttpHandler
            {
                AllowAutoRedirect = false, // a redirect could point inside
                ConnectCallback = sp.GetRequiredService<WebhookDestinations>().ConnectAsync,
                PooledConnectionLifetime = TimeSpan.FromMinutes(1),
            });
        services.AddOptions<StripeOptions>().BindConfiguration(StripeOptions.Section)
            .Validate(o => Uri.TryCreate(o.BaseUrl, UriKind.Absolute, out _) && o.ToleranceSeconds > 0 && o.MaxRetries >= 0 && o.TimeoutSeconds > 0,
                "Billing:Stripe: BaseUrl must be an absolute URL, tolerance and timeouts positive")
            .ValidateOnStart();
        services.AddSingleton<StripeGateway>();
        services.AddSingleton<StripeOutboxDispatcher>();
        services.AddOpenApi();
        services.AddExceptionHandler<ClusterUnavailableHandler>();
        services.AddExceptionHandler<BadRequestHandler>();
        return services;
    }

    public static IEndpointRouteBuilder MapClientApi(this IEndpointRouteBuilder app)
    {
        app.MapJobs();
        app.MapModels();
        app.MapAdmin();
        Dashboard.DashboardApi.MapDashboard(app);
        app.MapBilling();
        app.MapStripeWebhook();
        app.MapOpenApi("/openapi/{documentName}.json");
        return app;
    }
}
