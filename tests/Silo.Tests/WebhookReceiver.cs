using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Actors.Silo.Tests;

/// <summary>A webhook endpoint on 127.0.0.1: records every request (headers and body) and
/// answers with the next status from <see cref="Statuses"/> (then 200).</summary>
public sealed class WebhookReceiver : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _loop;

    public WebhookReceiver()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        Url = $"http://127.0.0.1:{port}/hooks/";
        _listener.Prefixes.Add(Url);
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    public string Url { get; }

    public ConcurrentQueue<HttpStatusCode> Statuses { get; } = new();

    public ConcurrentQueue<(string Id, string Timestamp, string Signature, string Body)> Received { get; } = new();

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
    }

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            using var reader = new StreamReader(context.Request.InputStream);
            var body = await reader.ReadToEndAsync();
            Received.Enqueue((context.Request.Headers["webhook-id"] ?? "", context.Request.Headers["webhook-timestamp"] ?? "",
                context.Request.Headers["webhook-signature"] ?? "", body));
            context.Response.StatusCode = (int)(Statuses.TryDequeue(out var status) ? status : HttpStatusCode.OK);
            context.Response.Close();
        }
    }
}
