using System.Net;

namespace Actors.Fleet.Providers.Cloud;

/// <summary>Our error code for a cloud's HTTP status, where its body says nothing more precise.</summary>
public static class CloudErrors
{
    public static string ByStatus(HttpStatusCode status) => status switch
    {
        HttpStatusCode.Unauthorized => "unauthorized",
        HttpStatusCode.Forbidden => "forbidden",
        HttpStatusCode.NotFound => "not_found",
        HttpStatusCode.PaymentRequired => "quota",
        HttpStatusCode.Conflict => "invalid_state",
        HttpStatusCode.TooManyRequests => "rate_limited",
        >= HttpStatusCode.InternalServerError => "failed",
        _ => "invalid_request",
    };
}
