using Microsoft.AspNetCore.Diagnostics;

namespace Actors.Silo.Cluster;

/// <summary>Errors the framework answers without a body — no route (404), a method the route does
/// not take (405), a value that does not bind to a parameter (400) — written as ProblemDetails
/// like every other error, with a stable type.</summary>
internal static class StatusCodeProblems
{
    public static Task WriteAsync(StatusCodeContext context)
    {
        var http = context.HttpContext;
        var status = http.Response.StatusCode;
        var (type, detail) = status switch
        {
            StatusCodes.Status400BadRequest => ("malformed_request", "a path, query or body value does not have the type the endpoint takes (see /openapi/v1.json)"),
            StatusCodes.Status404NotFound => ("not_found", $"nothing at {http.Request.Path}"),
            StatusCodes.Status405MethodNotAllowed => ("method_not_allowed", $"{http.Request.Method} is not allowed on {http.Request.Path}"),
            StatusCodes.Status415UnsupportedMediaType => ("unsupported_media_type", "this endpoint does not take that Content-Type"),
            _ => ($"http_{status}", ReasonPhrase(status)),
        };
        return Results.Problem(title: type.Replace('_', ' '), detail: detail, statusCode: status, type: type).ExecuteAsync(http);
    }

    private static string ReasonPhrase(int status) => Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status) is { Length: > 0 } phrase ? phrase : $"HTTP {status}";
}
