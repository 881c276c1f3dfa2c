using Actors.Grains;
using Actors.Grains.Fleet;
using Actors.Grains.Tenants;

namespace Actors.Client.Api.Jobs;

/// <summary>The autoscaler's overflow refusals ("server busy" for a tier whose jobs wait too
/// long), read from the pool at most every two seconds per silo.</summary>
public sealed class PoolGate(IGrainFactory grains, TimeProvider time)
{
    private static readonly TimeSpan Fresh = TimeSpan.FromSeconds(2);
    private (DateTimeOffset At, PoolView? View) _cached;

    /// <summary>Until when jobs of <paramref name="tier"/> are refused, or null when they are not.</summary>
    public async Task<DateTimeOffset?> RefusingUntilAsync(Tier tier)
    {
        var now = time.GetUtcNow();
        var cached = _cached;
        if (now - cached.At > Fresh)
        {
            cached = (now, await grains.GetGrain<IPoolGrain>(IPoolGrain.Key).GetAsync());
            _cached = cached;
        }

        return cached.View is { } view && view.RefusingUntil.TryGetValue(tier, out var until) && until > now ? until : null;
    }
}
