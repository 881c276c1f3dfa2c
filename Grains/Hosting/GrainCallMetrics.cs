using System.Diagnostics;
using Actors.Grains.Diagnostics;

namespace Actors.Grains.Hosting;

/// <summary>Times every call on our grains (actors_grain_turn_duration_seconds, by grain interface).</summary>
public sealed class GrainCallMetrics : IIncomingGrainCallFilter
{
    public async Task Invoke(IIncomingGrainCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var started = Stopwatch.GetTimestamp();
        try
        {
            await context.Invoke();
        }
        finally
        {
            if (context.InterfaceMethod?.DeclaringType is { Namespace: { } ns } type && ns.StartsWith("Actors.", StringComparison.Ordinal))
            {
                ActorsMetrics.GrainTurn.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, new KeyValuePair<string, object?>("grain_type", type.Name));
            }
        }
    }
}
