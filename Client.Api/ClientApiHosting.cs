using Actors.Client.Api.Admin;
using Actors.Client.Api.Auth;
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
            .Validate(o => o.MaxUploadBytes > 0 && o.MaxWaitSeconds >= 0 && o.AuthCacheSeconds >= 0 && o.MaxImagePixels > 0, "Api options out of range")
            .ValidateOnStart();
        services.AddSingleton<ApiKeyCallers>();
        services.AddSingleton<ModelCatalog>();
        services.AddSingleton<JobSubmitter>();
        services.AddSingleton<JobReader>();
        services.AddSingleton<QueueEta>();
        services.AddSingleton<WebhookDispatcher>();
        services.AddHttpClient("webhooks", c => c.Timeout = TimeSpan.FromSeconds(10));
        services.AddOpenApi();
        return services;
    }

    public static IEndpointRouteBuilder MapClientApi(this IEndpointRouteBuilder app)
    {
        app.MapJobs();
        app.MapModels();
        app.MapAdmin();
        app.MapOpenApi("/openapi/{documentName}.json");
        return app;
    }
}
