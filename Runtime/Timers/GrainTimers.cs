using Actors.Grains;

namespace Actors.Runtime.Timers;

/// <summary>In-memory timers of this silo (as Orleans' grain timers: not durable, gone when the
/// silo stops). Each tick is an ordinary call, so a turn; a tick never overlaps the previous one.</summary>
public sealed class GrainTimers(IGrainFactory grains, TimeProvider time) : IAsyncDisposable
{
    private readonly List<(CancellationTokenSource Stop, Task Loop)> _timers = [];
    private readonly Lock _gate = new();

    /// <summary>Calls <paramref name="tick"/> on grain <paramref name="key"/> every <paramref name="period"/>
    /// until the returned handle is disposed. Errors are passed to <paramref name="onError"/> and the timer goes on.</summary>
    public IAsyncDisposable Register<TGrain>(string key, Func<TGrain, Task> tick, TimeSpan period, Action<Exception>? onError = null)
        where TGrain : IGrainWithStringKey
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(period, TimeSpan.Zero);
        var stop = new CancellationTokenSource();
        var grain = grains.GetGrain<TGrain>(key);
        var loop = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(period, time);
            try
            {
                while (await timer.WaitForNextTickAsync(stop.Token))
                {
                    try
                    {
                        await tick(grain);
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        onError?.Invoke(e);
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
        });
        lock (_gate)
        {
            _timers.Add((stop, loop));
        }

        return new Handle(stop, loop);
    }

    public async ValueTask DisposeAsync()
    {
        List<(CancellationTokenSource Stop, Task Loop)> timers;
        lock (_gate)
        {
            timers = [.. _timers];
            _timers.Clear();
        }

        foreach (var (stop, loop) in timers)
        {
            await new Handle(stop, loop).DisposeAsync();
        }
    }

    private sealed class Handle(CancellationTokenSource stop, Task loop) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            if (!stop.IsCancellationRequested)
            {
                await stop.CancelAsync();
            }

            await loop;
            stop.Dispose();
        }
    }
}
