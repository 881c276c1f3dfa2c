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
}
