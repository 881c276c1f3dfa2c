using Actors.Storage.Sql;
using Dapper;

namespace Actors.Storage.OrleansProviders;

/// <summary>Reads the reminder table directly (both stores' layouts are ours, see the migrations):
/// which grains of a type hold a reminder of a name. A restarted cluster uses it to wake, at once,
/// the grains that have work waiting for their next tick (a tenant's open reservations), instead
/// of leaving them to the tick, up to a period later.</summary>
public sealed class ReminderRows(SqlStore store)
{
    /// <summary>The keys of grains of <paramref name="grainType"/> (Orleans' type name, e.g.
    /// "tenant") that hold reminder <paramref name="reminderName"/>, at most <paramref name="max"/>.</summary>
    public Task<IReadOnlyList<string>> GrainKeysAsync(string grainType, string reminderName, int max = 10_000, CancellationToken cancellationToken = default)
    {
        var sql = store.IsPostgres
            ? "SELECT GrainId FROM OrleansRemindersTable WHERE ReminderName = @Name AND GrainId LIKE @Prefix ORDER BY GrainId LIMIT @Max"
            : "SELECT grain_id FROM orleans_reminders WHERE reminder_name = @Name AND grain_id LIKE @Prefix ORDER BY grain_id LIMIT @Max";
        var prefix = grainType + "/";
        return store.ReadAsync<IReadOnlyList<string>>(async c =>
            [.. (await c.QueryAsync<string>(sql, new { Name = reminderName, Prefix = prefix + "%", Max = max }))
                .Where(id => id.StartsWith(prefix, StringComparison.Ordinal) && id.Length > prefix.Length) // LIKE's '_' matches any character
                .Select(id => id[prefix.Length..])], cancellationToken);
    }
}
