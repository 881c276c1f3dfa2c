using Actors.Runtime.Storage;
using Microsoft.Data.Sqlite;

namespace Actors.Runtime.Membership;

/// <summary>Membership in the embedded file: there is one silo in embedded mode, but the same
/// table lets the GPU host of that silo and its tests behave as in a cluster.</summary>
public sealed class SqliteMembershipTable : IMembershipTable
{
    private readonly SqliteFile _file;
    private readonly TimeProvider _time;

    public SqliteMembershipTable(string path, TimeProvider time)
    {
        _file = new SqliteFile(path);
        _time = time;
    }

    public Task<bool> HeartbeatAsync(string siloId, string address, string roles, string? gpu, CancellationToken cancellationToken = default) =>
        _file.WriteAsync(async connection =>
        {
            await using var cmd = new SqliteCommand(
                """
                INSERT INTO silos (silo_id, address, roles, gpu, started_at, last_seen, status) VALUES ($id, $a, $r, $g, $now, $now, 'alive')
                ON CONFLICT (silo_id) DO UPDATE SET last_seen = excluded.last_seen, address = excluded.address, roles = excluded.roles, gpu = excluded.gpu
                WHERE silos.status = 'alive'
                """, connection);
            cmd.Parameters.AddWithValue("$id", siloId);
            cmd.Parameters.AddWithValue("$a", address);
            cmd.Parameters.AddWithValue("$r", roles);
            cmd.Parameters.AddWithValue("$g", (object?)gpu ?? DBNull.Value);
            cmd.Parameters.AddWithValue("$now", _time.GetUtcNow().ToUnixTimeMilliseconds());
            return await cmd.ExecuteNonQueryAsync(cancellationToken) == 1;
        }, cancellationToken);

    public Task<IReadOnlyList<SiloInfo>> DeclareDeadAsync(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        _file.WriteAsync(async connection =>
        {
            await using var cmd = new SqliteCommand(
                "UPDATE silos SET status = 'dead' WHERE status = 'alive' AND last_seen < $cut RETURNING silo_id, address, roles, gpu, started_at, last_seen, status",
                connection);
            cmd.Parameters.AddWithValue("$cut", (_time.GetUtcNow() - timeout).ToUnixTimeMilliseconds());
            return await ReadAsync(cmd, cancellationToken);
        }, cancellationToken);

    public Task LeaveAsync(string siloId, CancellationToken cancellationToken = default) =>
        _file.WriteAsync(async connection =>
        {
            await using var cmd = new SqliteCommand("UPDATE silos SET status = 'left' WHERE silo_id = $id AND status = 'alive'", connection);
            cmd.Parameters.AddWithValue("$id", siloId);
            return await cmd.ExecuteNonQueryAsync(cancellationToken);
        }, cancellationToken);

    public async Task<IReadOnlyList<SiloInfo>> ListAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await _file.OpenAsync(cancellationToken);
        await using var cmd = new SqliteCommand("SELECT silo_id, address, roles, gpu, started_at, last_seen, status FROM silos ORDER BY silo_id", connection);
        return await ReadAsync(cmd, cancellationToken);
    }

    private static async Task<IReadOnlyList<SiloInfo>> ReadAsync(SqliteCommand cmd, CancellationToken ct)
    {
        var silos = new List<SiloInfo>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            silos.Add(new SiloInfo(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4)), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5)), reader.GetString(6)));
        }

        return silos;
    }
}
