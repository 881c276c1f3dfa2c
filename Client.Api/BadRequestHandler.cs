using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;

namespace Actors.Client.Api;

/// <summary>Kestrel's and ASP.NET Core's own verdicts on a request that reach the app as exceptions
/// (a body cut short, a body over the limit, a malformed form): the status they carry (400, 408,
/// 413, 431) as ProblemDetails, not a 500; and a JSON body with a field its endpoint does not take
/// (<see cref="UnknownJsonFieldException"/>): 422 <c>unknown_fields</c>.</summary>
internal sealed class BadRequestHandler : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (httpContext.Response.HasStarted)
        {
            return false;
        }

        if (exception is UnknownJsonFieldException unknown)
        {
            httpContext.Response.StatusCode = StatusCodes.Status422UnprocessableEntity;
            await httpContext.Response.WriteAsJsonAsync(new { type = "unknown_fields", title = "unknown fields", status = 422, detail = unknown.Message },
                options: null, contentType: "application/problem+json", cancellationToken);
            return true;
        }

        if (IsInvalidJsonText(exception))
        {
            // A JSON reader met bytes that are not UTF-8 where no check ran first (every body we
            // read ourselves is checked by JsonText): the client's bytes, a 400.
            httpContext.Response.StatusCode = StatusCodes.Status400BadRequest;
            await httpContext.Response.WriteAsJsonAsync(new
            {
                type = "malformed_request", title = "malformed request", status = 400,
                detail = "the body holds text that is not valid UTF-8",
            }, options: null, contentType: "application/problem+json", cancellationToken);
            return true;
        }

        if (exception is not BadHttpRequestException bad)
        {
            return false;
        }

        httpContext.Response.StatusCode = bad.StatusCode is >= 400 and < 500 ? bad.StatusCode : StatusCodes.Status400BadRequest;
        await httpContext.Response.WriteAsJsonAsync(new
        {
            type = "malformed_request",
            title = "malformed request",
            status = httpContext.Response.StatusCode,
            detail = bad.Message,
        }, options: null, contentType: "application/problem+json", cancellationToken);
        return true;
    }

    /// <summary>System.Text.Json's way of saying the bytes of a string it was asked to read are not
    /// UTF-8 (a transcoding failure inside an <see cref="InvalidOperationException"/>); any other
    /// invalid operation stays a 500, which the fuzz suite reports.</summary>
    private static bool IsInvalidJsonText(Exception exception) =>
        exception is InvalidOperationException { InnerException: System.Text.DecoderFallbackException };
}
