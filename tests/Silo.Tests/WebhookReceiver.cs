using System.Collections.Concurrent;
using System.Net;

namespace Actors.Silo.Tests;

/// <summary>A webhook endpoint on 127.0.0.1: records every request (headers and body) and
/// answers with the next status from <see cref="Statuses"/> (then 200).</summary>
public sealed class WebhookReceiver() : LoopbackHttpServer("/hooks/", concurrent: false)
{
    public ConcurrentQueue<HttpStatusCode> Statuses { get; } = new();

    public ConcurrentQueue<(string Id, string Timestamp, string Signature, string Body)> Received { get; } = new();

    protected override async Task HandleAsync(HttpListenerContext context)
    {
        using var reader = new StreamReader(context.Request.InputStream);
        var body = await reader.ReadToEndAsync();
        Received.Enqueue((context.Request.Headers["webhook-id"] ?? "", context.Request.Headers["webhook-timestamp"] ?? "",
            context.Request.Headers["webhook-signature"] ?? "", body));
        context.Response.StatusCode = (int)(Statuses.TryDequeue(out var status) ? status : HttpStatusCode.OK);
        context.Response.Close();
    }
}
