using Npgsql;

namespace Actors.Runtime.Membership;

public sealed class PostgresMembershipTable(NpgsqlDataSource dataSource, TimeProvider time) : IMembershipTable
{
    public async Task<bool> HeartbeatAsync(string siloId, string address, string roles, string? gpu, CancellationToken cancellationToken = default)
    {
        await using var cmd = dataSource.CreateCommand(
            """
            INSERT INTO silos (silo_id, address, roles, gpu, started_at, last_seen, status) VALUES ($1, $2, $3, $4, $5, $5, 'alive')
            ON CONFLICT (silo_id) DO UPDATE SET last_seen = excluded.last_seen, address = excluded.address, roles = excluded.roles, gpu = excluded.gpu
            WHERE silos.status = 'alive'
            """);
        cmd.Parameters.AddWithValue(siloId);
        cmd.Parameters.AddWithValue(address);
        cmd.Parameters.AddWithValue(roles);
        cmd.Parameters.AddWithValue((object?)gpu ?? DBNull.Value);
        cmd.Parameters.AddWithValue(time.GetUtcNow());
        return await cmd.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public async Task<IReadOnlyList<SiloInfo>> DeclareDeadAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        // The row update is the claim: concurrent callers cannot both flip the same row.
        await using var cmd = dataSource.CreateCommand(
            "UPDATE silos SET status = 'dead' WHERE status = 'alive' AND last_seen < $1 RETURNING silo_id, address, roles, gpu, started_at, last_seen, status");
        cmd.Parameters.AddWithValue(time.GetUtcNow() - timeout);
        return await ReadAsync(cmd, cancellationToken);
    }

    public async Task LeaveAsync(string siloId, CancellationToken cancellationToken = default)
    {
        await using var cmd = dataSource.CreateCommand("UPDATE silos SET status = 'left' WHERE silo_id = $1 AND status = 'alive'");
        cmd.Parameters.AddWithValue(siloId);
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<SiloInfo>> ListAsync(CancellationToken cancellationToken = default)
    {
        await using var cmd = dataSource.CreateCommand("SELECT silo_id, address, roles, gpu, started_at, last_seen, status FROM silos ORDER BY silo_id");
        return await ReadAsync(cmd, cancellationToken);
    }

    private static async Task<IReadOnlyList<SiloInfo>> ReadAsync(NpgsqlCommand cmd, CancellationToken ct)
    {
        var silos = new List<SiloInfo>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            silos.Add(new SiloInfo(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3),
                reader.GetFieldValue<DateTimeOffset>(4), reader.GetFieldValue<DateTimeOffset>(5), reader.GetString(6)));
        }

        return silos;
    }
}
