using System.Net;

namespace Actors.Silo.Tests;

/// <summary>A webhook endpoint on 127.0.0.1 that holds every answer until <see cref="Release"/>,
/// serving requests in parallel; counts the requests that came and the most it held at once.</summary>
public sealed class SlowReceiver() : LoopbackHttpServer("/slow/", concurrent: true)
{
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _open;
    private int _mostOpen;
    private int _received;

    public int MostOpen => Volatile.Read(ref _mostOpen);

    public int Received => Volatile.Read(ref _received);

    /// <summary>Answers the held requests, and every later one at once.</summary>
    public void Release() => _released.TrySetResult();

    protected override async Task HandleAsync(HttpListenerContext context)
    {
        Interlocked.Increment(ref _received);
        var open = Interlocked.Increment(ref _open);
        int seen;
        while (open > (seen = Volatile.Read(ref _mostOpen)) && Interlocked.CompareExchange(ref _mostOpen, open, seen) != seen)
        {
        }

        await _released.Task;
        Interlocked.Decrement(ref _open);
        context.Response.StatusCode = 200;
        context.Response.Close();
    }
}
