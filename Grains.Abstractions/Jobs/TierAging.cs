namespace Actors.Grains.Jobs;

/// <summary>Priority with aging in one number: a job is ordered by its enqueue time minus its
/// tier's head start. A Pro job enqueued now goes ahead of Free jobs enqueued in the last two
/// minutes, but not of older ones — so Free never starves, it only waits longer.</summary>
public static class TierAging
{
    /// <summary>Head start per tier: Free 0, Premium 30 s, Pro 2 min, Enterprise 5 min.</summary>
    public static readonly IReadOnlyList<TimeSpan> HeadStart =
        [TimeSpan.Zero, TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(5)];

    public static DateTimeOffset ReadyAt(DateTimeOffset enqueuedAt, int tier) =>
        enqueuedAt - HeadStart[Math.Clamp(tier, 0, HeadStart.Count - 1)];
}
