using System.Globalization;
using Microsoft.Data.Sqlite;
using Orleans;
using Orleans.Runtime;

namespace Actors.Storage.OrleansProviders;

/// <summary>Orleans reminders in the embedded SQLite file (table <c>orleans_reminders</c>, migration
/// 008): Orleans has no SQLite reminder provider. ETags are the row's version; an upsert bumps it
/// and a remove succeeds only with the current one. Ranges are of <see cref="GrainId.GetUniformHashCode"/>,
/// (begin, end], wrapping when begin ≥ end.</summary>
public sealed class SqliteReminderTable(string path, string serviceId) : IReminderTable
{
    private const string Columns = "grain_id, reminder_name, start_ms, period_ms, version";
    private readonly Schema.SqliteFile _file = new(path);

    public Task StartAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

    public Task<ReminderTableData> ReadRows(GrainId grainId) => ReadRows(grainId, CancellationToken.None);

    public Task<ReminderTableData> ReadRows(GrainId grainId, CancellationToken cancellationToken) =>
        QueryAsync($"SELECT {Columns} FROM orleans_reminders WHERE service_id = $s AND grain_id = $g",
            cmd => cmd.Parameters.AddWithValue("$g", grainId.ToString()), cancellationToken);

    public Task<ReminderTableData> ReadRows(uint begin, uint end) => ReadRows(begin, end, CancellationToken.None);

    public Task<ReminderTableData> ReadRows(uint begin, uint end, CancellationToken cancellationToken) =>
        QueryAsync(
            begin < end
                ? $"SELECT {Columns} FROM orleans_reminders WHERE service_id = $s AND grain_hash > $b AND grain_hash <= $e"
                : $"SELECT {Columns} FROM orleans_reminders WHERE service_id = $s AND (grain_hash > $b OR grain_hash <= $e)",
            cmd =>
            {
                cmd.Parameters.AddWithValue("$b", (long)begin);
                cmd.Parameters.AddWithValue("$e", (long)end);
            }, cancellationToken);

    public Task<ReminderEntry?> ReadRow(GrainId grainId, string reminderName) => ReadRow(grainId, reminderName, CancellationToken.None);

    public async Task<ReminderEntry?> ReadRow(GrainId grainId, string reminderName, CancellationToken cancellationToken)
    {
        var rows = await QueryAsync($"SELECT {Columns} FROM orleans_reminders WHERE service_id = $s AND grain_id = $g AND reminder_name = $n",
            cmd =>
            {
                cmd.Parameters.AddWithValue("$g", grainId.ToString());
                cmd.Parameters.AddWithValue("$n", reminderName);
            }, cancellationToken);
        return rows.Reminders.FirstOrDefault(); // null: no such reminder
    }

    public Task<string?> UpsertRow(ReminderEntry entry) => UpsertRow(entry, CancellationToken.None);

    public Task<string?> UpsertRow(ReminderEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return _file.WriteAsync(async connection =>
        {
            await using var cmd = connection.CreateCommand();
            cmd.CommandText =
                """
                INSERT INTO orleans_reminders (service_id, grain_id, reminder_name, start_ms, period_ms, grain_hash, version)
                VALUES ($s, $g, $n, $start, $period, $hash, 1)
                ON CONFLICT (service_id, grain_id, reminder_name) DO UPDATE
                SET start_ms = excluded.start_ms, period_ms = excluded.period_ms, grain_hash = excluded.grain_hash, version = version + 1
                RETURNING version
                """;
            cmd.Parameters.AddWithValue("$s", serviceId);
            cmd.Parameters.AddWithValue("$g", entry.GrainId.ToString());
            cmd.Parameters.AddWithValue("$n", entry.ReminderName);
            cmd.Parameters.AddWithValue("$start", new DateTimeOffset(DateTime.SpecifyKind(entry.StartAt, DateTimeKind.Utc)).ToUnixTimeMilliseconds());
            cmd.Parameters.AddWithValue("$period", (long)entry.Period.TotalMilliseconds);
            cmd.Parameters.AddWithValue("$hash", (long)entry.GrainId.GetUniformHashCode());
            var version = Convert.ToInt64(await cmd.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
            return (string?)version.ToString(CultureInfo.InvariantCulture);
        }, cancellationToken);
    }

    public Task<bool> RemoveRow(GrainId grainId, string reminderName, string eTag) => RemoveRow(grainId, reminderName, eTag, CancellationToken.None);

    public Task<bool> RemoveRow(GrainId grainId, string reminderName, string eTag, CancellationToken cancellationToken) =>
        !long.TryParse(eTag, NumberStyles.None, CultureInfo.InvariantCulture, out var version)
            ? Task.FromResult(false)
            : _file.WriteAsync(async connection =>
            {
                await using var cmd = connection.CreateCommand();
                cmd.CommandText = "DELETE FROM orleans_reminders WHERE service_id = $s AND grain_id = $g AND reminder_name = $n AND version = $v";
                cmd.Parameters.AddWithValue("$s", serviceId);
                cmd.Parameters.AddWithValue("$g", grainId.ToString());
                cmd.Parameters.AddWithValue("$n", reminderName);
                cmd.Parameters.AddWithValue("$v", version);
                return await cmd.ExecuteNonQueryAsync(cancellationToken) == 1;
            }, cancellationToken);

    public Task TestOnlyClearTable() => TestOnlyClearTable(CancellationToken.None);

    public Task TestOnlyClearTable(CancellationToken cancellationToken) =>
        _file.WriteAsync(async connection =>
        {
            await using var cmd = connection.CreateCommand();
            cmd.CommandText = "DELETE FROM orleans_reminders WHERE service_id = $s";
            cmd.Parameters.AddWithValue("$s", serviceId);
            return await cmd.ExecuteNonQueryAsync(cancellationToken);
        }, cancellationToken);

    private async Task<ReminderTableData> QueryAsync(string sql, Action<SqliteCommand> bind, CancellationToken cancellationToken)
    {
        await using var connection = await _file.OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.Parameters.AddWithValue("$s", serviceId);
        bind(cmd);
        var entries = new List<ReminderEntry>();
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            entries.Add(new ReminderEntry
            {
                GrainId = GrainId.Parse(reader.GetString(0), CultureInfo.InvariantCulture),
                ReminderName = reader.GetString(1),
                StartAt = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2)).UtcDateTime,
                Period = TimeSpan.FromMilliseconds(reader.GetInt64(3)),
                ETag = reader.GetInt64(4).ToString(CultureInfo.InvariantCulture),
            });
        }

        return new ReminderTableData(entries);
    }
}
