using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Actors.Client.Api;

/// <summary>While a silo has died and the cluster has not yet declared it dead, calls to grains it
/// hosted fail (or time out), and a storage write can meet a duplicate activation. Those are
/// passing conditions, not bugs: the caller gets 503 ProblemDetails with Retry-After (and may
/// repeat the request with its Idempotency-Key), not a 500.</summary>
internal sealed partial class ClusterUnavailableHandler(ILogger<ClusterUnavailableHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not (OrleansMessageRejectionException or SiloUnavailableException or TimeoutException or Orleans.Storage.InconsistentStateException or Orleans.Runtime.GatewayTooBusyException))
        {
            return false;
        }

        LogUnavailable(logger, httpContext.Request.Method, httpContext.Request.Path, exception);
        httpContext.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        httpContext.Response.Headers.RetryAfter = "2";
        await httpContext.Response.WriteAsJsonAsync(new
        {
            type = "cluster_unavailable",
            title = "cluster unavailable",
            status = 503,
            detail = "part of the cluster is failing over; retry shortly (with the same Idempotency-Key for a job)",
        }, options: null, contentType: "application/problem+json", cancellationToken);
        return true;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Method} {Path}: the cluster is failing over, answered 503")]
    private static partial void LogUnavailable(ILogger logger, string method, string path, Exception error);
}
