using Microsoft.AspNetCore.Http;

namespace Actors.Client.Api;

/// <summary>The <c>text/event-stream</c> wire format the API's streams share: headers that keep
/// proxies from caching or buffering, and one event (<c>id</c>, <c>event</c>, <c>data</c>) flushed at once.</summary>
internal static class ServerSentEvents
{
    public static void Begin(HttpResponse response)
    {
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
    }

    public static async Task SendAsync(HttpResponse response, int id, string name, string json, CancellationToken ct)
    {
        await response.WriteAsync($"id: {id}\nevent: {name}\ndata: {json}\n\n", ct);
        await response.Body.FlushAsync(ct);
    }
}
