using Actors.Runtime.Sql;
using Actors.Runtime.Storage;
using Dapper;

namespace Actors.Runtime.Reminders;

/// <summary>Durable reminders: rows (grain, name, due, period). The control role claims due rows
/// with a short lease (SKIP LOCKED on PostgreSQL), delivers each as a turn and then moves a
/// periodic one to its next time or deletes a one-shot one.</summary>
public sealed class ReminderTable(SqlStore store, TimeProvider time)
{
    public Task RegisterAsync(GrainId grain, string name, TimeSpan dueIn, TimeSpan period, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentOutOfRangeException.ThrowIfLessThan(period, TimeSpan.Zero);
        var due = (time.GetUtcNow() + (dueIn < TimeSpan.Zero ? TimeSpan.Zero : dueIn)).ToUnixTimeMilliseconds();
        return store.WriteAsync(c => c.ExecuteAsync(
            """
            INSERT INTO reminders (reminder_id, grain_type, grain_key, name, due_ms, period_ms)
            VALUES (@Id, @Type, @Key, @Name, @Due, @Period)
            ON CONFLICT (reminder_id) DO UPDATE SET due_ms = excluded.due_ms, period_ms = excluded.period_ms
            """,
            new { Id = IdOf(grain, name), grain.Type, grain.Key, Name = name, Due = due, Period = (long)period.TotalMilliseconds }), cancellationToken);
    }

    public Task<bool> UnregisterAsync(GrainId grain, string name, CancellationToken cancellationToken = default) =>
        store.WriteAsync(async c => await c.ExecuteAsync("DELETE FROM reminders WHERE reminder_id = @Id", new { Id = IdOf(grain, name) }) == 1, cancellationToken);

    public Task<IReadOnlyList<(string Name, DateTimeOffset Due, TimeSpan Period)>> ListAsync(GrainId grain, CancellationToken cancellationToken = default) =>
        store.ReadAsync<IReadOnlyList<(string, DateTimeOffset, TimeSpan)>>(async c =>
            (await c.QueryAsync<(string Name, long Due, long Period)>(
                "SELECT name, due_ms, period_ms FROM reminders WHERE grain_type = @Type AND grain_key = @Key ORDER BY name", new { grain.Type, grain.Key }))
            .Select(r => (r.Name, DateTimeOffset.FromUnixTimeMilliseconds(r.Due), TimeSpan.FromMilliseconds(r.Period))).ToList(), cancellationToken);

    /// <summary>Due reminders not leased by another silo, leased to <paramref name="owner"/>.</summary>
    public Task<IReadOnlyList<DueReminder>> ClaimDueAsync(string owner, int max, TimeSpan lease, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        return store.WriteAsync<IReadOnlyList<DueReminder>>(async c =>
            (await c.QueryAsync<(string Id, string Type, string Key, string Name, long Due, long Period)>(
                $"""
                UPDATE reminders SET lease_owner = @Owner, lease_until_ms = @Until
                WHERE reminder_id IN (
                    SELECT reminder_id FROM reminders
                    WHERE due_ms <= @Now AND (lease_until_ms IS NULL OR lease_until_ms < @Now)
                    ORDER BY due_ms LIMIT @Max{store.SkipLocked})
                RETURNING reminder_id, grain_type, grain_key, name, due_ms, period_ms
                """,
                new { Owner = owner, Until = now + (long)lease.TotalMilliseconds, Now = now, Max = max }))
            .Select(r => new DueReminder(r.Id, new GrainId(r.Type, r.Key), r.Name, r.Due, r.Period))
            .OrderBy(r => r.DueMs).ToList(), cancellationToken);
    }

    /// <summary>After a delivery: a periodic reminder moves to its next time after now, a one-shot
    /// one is deleted — unless the grain re-registered it meanwhile (its due time changed).</summary>
    public Task DeliveredAsync(DueReminder reminder, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var next = reminder.PeriodMs > 0
            ? reminder.DueMs + (((now - reminder.DueMs) / reminder.PeriodMs) + 1) * reminder.PeriodMs
            : 0;
        return store.WriteAsync(async c =>
        {
            var changed = reminder.PeriodMs > 0
                ? await c.ExecuteAsync("UPDATE reminders SET due_ms = @Next, lease_owner = NULL, lease_until_ms = NULL WHERE reminder_id = @Id AND due_ms = @Due",
                    new { Next = next, Id = reminder.ReminderId, Due = reminder.DueMs })
                : await c.ExecuteAsync("DELETE FROM reminders WHERE reminder_id = @Id AND due_ms = @Due", new { Id = reminder.ReminderId, Due = reminder.DueMs });
            if (changed == 0)
            {
                await c.ExecuteAsync("UPDATE reminders SET lease_owner = NULL, lease_until_ms = NULL WHERE reminder_id = @Id", new { Id = reminder.ReminderId });
            }

            return changed;
        }, cancellationToken);
    }

    /// <summary>A delivery that failed: try again after <paramref name="retryIn"/>.</summary>
    public Task FailedAsync(DueReminder reminder, TimeSpan retryIn, CancellationToken cancellationToken = default) =>
        store.WriteAsync(c => c.ExecuteAsync("UPDATE reminders SET lease_until_ms = @Until WHERE reminder_id = @Id",
            new { Until = (time.GetUtcNow() + retryIn).ToUnixTimeMilliseconds(), Id = reminder.ReminderId }), cancellationToken);

    private static string IdOf(GrainId grain, string name) => $"{grain.Type}/{grain.Key}/{name}";
}
