using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Actors.Client.Api;

/// <summary>Ids in paths name grains and rows: one that is blank, over 256 characters, or holds a
/// control character or a brace names nothing, so the answer is a 404 ProblemDetails before any
/// handler sees it. (Orleans refuses a blank grain key with an exception, and its ADO.NET storage
/// uses a string key inside a format string, so a key with '{' fails every write.)</summary>
public static class RouteValueGuard
{
    public const int MaxLength = 256;

    public static IApplicationBuilder UseRouteValueGuard(this IApplicationBuilder app) =>
        app.Use(async (context, next) =>
        {
            foreach (var (name, value) in context.Request.RouteValues)
            {
                if (name is "action" or "controller" || value is not string text)
                {
                    continue;
                }

                if (string.IsNullOrWhiteSpace(text) || text.Length > MaxLength || text.Any(c => char.IsControl(c) || c is '{' or '}'))
                {
                    await Problems.NotFound("not_found", $"no {name} '{(text.Length > 64 ? text[..64] + "…" : text)}': ids are 1 to {MaxLength} visible characters, no braces")
                        .ExecuteAsync(context);
                    return;
                }
            }

            await next(context);
        });
}
