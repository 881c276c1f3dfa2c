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
}
