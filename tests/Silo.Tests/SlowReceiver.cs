using System.Net;

namespace Actors.Silo.Tests;

/// <summary>A webhook endpoint on 127.0.0.1 that takes <paramref name="delay"/> to answer each
/// request, serving them in parallel; counts the most it ever held at once.</summary>
public sealed class SlowReceiver(TimeSpan delay) : LoopbackHttpServer("/slow/", concurrent: true)
{
    private int _open;
    private int _mostOpen;
    private int _received;

    public int MostOpen => Volatile.Read(ref _mostOpen);

    public int Received => Volatile.Read(ref _received);

    protected override async Task HandleAsync(HttpListenerContext context)
    {
        Interlocked.Increment(ref _received);
        var open = Interlocked.Increment(ref _open);
        int seen;
        while (open > (seen = Volatile.Read(ref _mostOpen)) && Interlocked.CompareExchange(ref _mostOpen, open, seen) != seen)
        {
        }

        await Task.Delay(delay);
        Interlocked.Decrement(ref _open);
        context.Response.StatusCode = 200;
        context.Response.Close();
    }
}
