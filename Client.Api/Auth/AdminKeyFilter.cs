using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Actors.Client.Api.Auth;

public static class AdminKeyFilter
{
    /// <summary>Every endpoint of the group answers 401/403 unless the admin key is sent.</summary>
    public static RouteGroupBuilder RequireAdminKey(this RouteGroupBuilder group)
    {
        group.AddEndpointFilter(async (context, next) =>
            context.HttpContext.RequestServices.GetRequiredService<ApiKeyCallers>().RequireAdmin(context.HttpContext.Request) ?? await next(context));
        return group;
    }

    /// <summary>As <see cref="RequireAdminKey"/>, for pages a browser opens by itself: Basic
    /// authentication with the admin key as password also works, and a 401 asks for it.</summary>
    public static RouteGroupBuilder RequireAdminKeyFromBrowser(this RouteGroupBuilder group)
    {
        group.AddEndpointFilter(async (context, next) =>
            context.HttpContext.RequestServices.GetRequiredService<ApiKeyCallers>().RequireAdminFromBrowser(context.HttpContext) ?? await next(context));
        return group;
    }
}
