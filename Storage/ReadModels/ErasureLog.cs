using Actors.Grains.Stores;
using Actors.Storage.Sql;
using Dapper;

namespace Actors.Storage.ReadModels;

/// <summary>The <c>erasures</c> table: one row per erasure of a job's or a tenant's data.</summary>
public sealed class ErasureLog(SqlStore store, TimeProvider time) : IErasureLog
{
    public Task RecordAsync(string actor, string tenantId, string? jobId, long jobs, ErasureCount blobs, long cacheEntries, CancellationToken cancellationToken = default) =>
        store.WriteAsync(c => c.ExecuteAsync(
            """
            INSERT INTO erasures (at_ms, actor, tenant_id, job_id, scope, jobs, objects_deleted, bytes_deleted, objects_kept, cache_entries)
            VALUES (@At, @Actor, @Tenant, @Job, @Scope, @Jobs, @Deleted, @Bytes, @Kept, @Cache)
            """, new
            {
                At = time.GetUtcNow().ToUnixTimeMilliseconds(), Actor = actor, Tenant = tenantId, Job = jobId, Scope = jobId is null ? "tenant" : "job",
                Jobs = jobs, Deleted = (long)blobs.Deleted, blobs.Bytes, Kept = (long)blobs.Kept, Cache = cacheEntries,
            }), cancellationToken);

    public Task<IReadOnlyList<ErasureRecord>> ListAsync(string? tenantId, int limit, CancellationToken cancellationToken = default) =>
        store.ReadAsync<IReadOnlyList<ErasureRecord>>(async c => (await c.QueryAsync<Row>(
            $"""
            SELECT id AS Id, at_ms AS AtMs, actor AS Actor, tenant_id AS TenantId, job_id AS JobId, scope AS Scope, jobs AS Jobs,
                   objects_deleted AS ObjectsDeleted, bytes_deleted AS BytesDeleted, objects_kept AS ObjectsKept, cache_entries AS CacheEntries
            FROM erasures {(tenantId is null ? "" : "WHERE tenant_id = @Tenant")} ORDER BY id DESC LIMIT @Limit
            """, new { Tenant = tenantId, Limit = limit })).Select(r => new ErasureRecord(r.Id, DateTimeOffset.FromUnixTimeMilliseconds(r.AtMs), r.Actor,
                r.TenantId, r.JobId, r.Scope, r.Jobs, r.ObjectsDeleted, r.BytesDeleted, r.ObjectsKept, r.CacheEntries)).ToList(), cancellationToken);

    private sealed record Row(long Id, long AtMs, string Actor, string TenantId, string? JobId, string Scope, long Jobs, long ObjectsDeleted,
        long BytesDeleted, long ObjectsKept, long CacheEntries);
}
