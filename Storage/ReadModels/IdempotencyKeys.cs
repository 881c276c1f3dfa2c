using Actors.Grains.Stores;
using Actors.Storage.Sql;
using Dapper;

namespace Actors.Storage.ReadModels;

/// <summary>Idempotency-Key → job, per tenant. The first request with a key claims it (a row
/// insert, so racing requests agree); a later one with the same fingerprint gets the same job,
/// with another fingerprint a refusal.</summary>
public sealed class IdempotencyKeys(SqlStore store, TimeProvider time) : IIdempotencyKeys
{
    /// <summary>The job the key belongs to and the fingerprint it was first used with.</summary>
    public Task<(string JobId, string Fingerprint)> ClaimAsync(string tenantId, string key, string fingerprint, string newJobId) =>
        store.WriteAsync(async c =>
        {
            await c.ExecuteAsync(
                """
                INSERT INTO idempotency_keys (tenant_id, idem_key, body_hash, job_id, created_ms) VALUES (@Tenant, @Key, @Fingerprint, @Job, @Now)
                ON CONFLICT (tenant_id, idem_key) DO NOTHING
                """, new { Tenant = tenantId, Key = key, Fingerprint = fingerprint, Job = newJobId, Now = time.GetUtcNow().ToUnixTimeMilliseconds() });
            return await c.QuerySingleAsync<(string, string)>(
                "SELECT job_id, body_hash FROM idempotency_keys WHERE tenant_id = @Tenant AND idem_key = @Key", new { Tenant = tenantId, Key = key });
        });

    /// <summary>Forgets keys older than <paramref name="cutoff"/> (retention).</summary>
    public Task<int> SweepAsync(DateTimeOffset cutoff) =>
        store.WriteAsync(c => c.ExecuteAsync("DELETE FROM idempotency_keys WHERE created_ms < @Cut", new { Cut = cutoff.ToUnixTimeMilliseconds() }));
}
