using System.Globalization;
using Actors.Grains.Stores;
using Actors.Storage.Sql;
using Dapper;

namespace Actors.Storage.ReadModels;

/// <summary>The fleet samples the dashboard's charts draw (every 5 s), in the store: one row per
/// 5-second slot whichever API silo writes it first, so every silo draws the same charts and a
/// restarted one still has its last hour. Kept <see cref="Retention"/>.</summary>
public sealed class DashboardSamples(SqlStore store, TimeProvider time) : IDashboardSamples
{
    public const int Kept = 720;
    public static readonly TimeSpan Retention = TimeSpan.FromHours(24);
    private const long SlotMs = 5_000;

    /// <summary>Records <paramref name="sample"/> unless its slot already has one; forgets old ones.</summary>
    public Task AddAsync(DashboardSample sample, CancellationToken cancellationToken = default)
    {
        var at = sample.At.ToUnixTimeMilliseconds();
        return store.WriteAsync(async c =>
        {
            await c.ExecuteAsync(
                """
                INSERT INTO dashboard_samples (slot, at_ms, queue_depth, cold, warm, hot, serving, per_hour, spent_today)
                VALUES (@Slot, @At, @QueueDepth, @Cold, @Warm, @Hot, @Serving, @PerHour, @Spent)
                ON CONFLICT (slot) DO NOTHING
                """,
                new { Slot = at / SlotMs, At = at, sample.QueueDepth, sample.Cold, sample.Warm, sample.Hot, sample.Serving, sample.PerHour, Spent = sample.SpentTodayUsd });
            return await c.ExecuteAsync("DELETE FROM dashboard_samples WHERE slot < @Cut", new { Cut = (at - (long)Retention.TotalMilliseconds) / SlotMs });
        }, cancellationToken);
    }

    /// <summary>The last hour's samples (at most <see cref="Kept"/>), oldest first.</summary>
    public Task<IReadOnlyList<DashboardSample>> LastHourAsync(CancellationToken cancellationToken = default)
    {
        var from = (time.GetUtcNow().ToUnixTimeMilliseconds() - 3_600_000) / SlotMs;
        return store.ReadAsync<IReadOnlyList<DashboardSample>>(async c => (await c.QueryAsync<Row>(
                $"SELECT at_ms AS AtMs, queue_depth AS QueueDepth, cold AS Cold, warm AS Warm, hot AS Hot, serving AS Serving, per_hour AS PerHour, spent_today AS Spent FROM dashboard_samples WHERE slot > @From ORDER BY slot DESC LIMIT {Kept}",
                new { From = from }))
            .Reverse()
            .Select(r => new DashboardSample(DateTimeOffset.FromUnixTimeMilliseconds(r.AtMs), r.QueueDepth, r.Cold, r.Warm, r.Hot, r.Serving,
                Math.Round(Convert.ToDecimal(r.PerHour, CultureInfo.InvariantCulture), 6), Math.Round(Convert.ToDecimal(r.Spent, CultureInfo.InvariantCulture), 6)))
            .ToList(), cancellationToken);
    }

    private sealed class Row
    {
        public long AtMs { get; init; }

        public int QueueDepth { get; init; }

        public int Cold { get; init; }

        public int Warm { get; init; }

        public int Hot { get; init; }

        public int Serving { get; init; }

        public object PerHour { get; init; } = 0m;

        public object Spent { get; init; } = 0m;
    }
}
