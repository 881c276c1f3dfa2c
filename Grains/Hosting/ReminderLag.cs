using Actors.Grains.Diagnostics;

namespace Actors.Grains.Hosting;

/// <summary>How late a reminder tick arrived (actors_reminder_lag_seconds).</summary>
public static class ReminderLag
{
    public static void Record(TickStatus status, string reminder, TimeProvider time)
    {
        var lag = (time.GetUtcNow().UtcDateTime - status.CurrentTickTime).TotalSeconds;
        ActorsMetrics.ReminderLag.Record(Math.Max(0, lag), new KeyValuePair<string, object?>("reminder", reminder));
    }
}
