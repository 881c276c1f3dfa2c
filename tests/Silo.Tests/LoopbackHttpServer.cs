using System.Net;

namespace Actors.Silo.Tests;

/// <summary>An HTTP server on a free 127.0.0.1 port for fakes of things outside our reach
/// (webhook receivers, Stripe): subclasses answer each request.</summary>
public abstract class LoopbackHttpServer : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly bool _concurrent;

    /// <param name="path">The prefix's path, ending in '/'.</param>
    /// <param name="concurrent">Serve requests in parallel (else one at a time, in order).</param>
    protected LoopbackHttpServer(string path, bool concurrent)
    {
        _concurrent = concurrent;
        Url = $"http://127.0.0.1:{Actors.Silo.Cluster.SiloIdentity.FreePort()}{path}";
        _listener.Prefixes.Add(Url);
        _listener.Start();
        _ = Task.Run(LoopAsync);
    }

    public string Url { get; }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        GC.SuppressFinalize(this);
    }

    protected abstract Task HandleAsync(HttpListenerContext context);

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

            if (_concurrent)
            {
                _ = Task.Run(() => HandleAsync(context));
            }
            else
            {
                await HandleAsync(context);
            }
        }
    }
}
