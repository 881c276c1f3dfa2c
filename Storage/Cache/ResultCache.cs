using System.Text.Json;
using Actors.Grains.Jobs;
using Actors.Grains.Stores;
using Actors.Storage.Blobs;
using Actors.Storage.Sql;
using Dapper;

namespace Actors.Storage.Cache;

/// <summary>Finished results by cache key (model + version + parameters + input SHA-256): a hit
/// answers a job without a GPU. An inline answer (<see cref="JobResult.OutputInline"/>) is all in
/// the entry; otherwise an entry references its producer's output blobs (owner
/// <c>cache:{key}</c>) until its retention ends (the producer's plan's cache days after its last
/// use); a hit gives the hitting job its own references (a copy in its tenant's space when the
/// tenants differ), and an entry whose blobs are gone is dropped rather than served.</summary>
public sealed class ResultCache(SqlStore store, BlobStore blobs, TimeProvider time)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The cached result as job <paramref name="jobId"/>'s answer, its blobs referenced
    /// by the job until <paramref name="outputsUntil"/>; null on a miss or when the entry's blobs
    /// are gone (the entry is dropped).</summary>
    public async Task<JobResult?> ServeAsync(string cacheKey, string tenantId, string jobId, DateTimeOffset outputsUntil, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var row = await store.ReadAsync(c => c.QuerySingleOrDefaultAsync<EntryRow>(
            "SELECT result_json AS Json, tenant_id AS Tenant, keep_ms AS KeepMs FROM result_cache WHERE cache_key = @Key AND expires_ms >= @Now",
            new { Key = cacheKey, Now = now }), cancellationToken);
        if (row is null || JsonSerializer.Deserialize<JobResult>(row.Json, Json) is not { } result)
        {
            return null;
        }

        var owner = "job:" + jobId;
        var kept = result.OutputRef is not { } output || await blobs.ShareAsync(row.Tenant, tenantId, BlobClass.Output, output, owner, outputsUntil, cancellationToken);
        if (kept && result.ImageRef is { } image && !await blobs.ShareAsync(row.Tenant, tenantId, BlobClass.Output, image, owner, outputsUntil, cancellationToken))
        {
            // Only the reference this hit added goes: the job keeps its own (its input).
            if (result.OutputRef is { } added)
            {
                await blobs.ReleaseAsync(owner, tenantId, BlobClass.Output, added, cancellationToken);
            }

            kept = false;
        }

        if (!kept)
        {
            await DropAsync([cacheKey], cancellationToken);
            return null;
        }

        var expires = now + row.KeepMs;
        await store.WriteAsync(async c =>
        {
            var touched = await c.ExecuteAsync("UPDATE result_cache SET hits = hits + 1, last_used_ms = @Now, expires_ms = @Expires WHERE cache_key = @Key",
                new { Now = now, Expires = expires, Key = cacheKey });
            return result.HasBlobs
                ? await c.ExecuteAsync("UPDATE blob_refs SET expires_ms = @Expires WHERE owner = @Owner AND expires_ms < @Expires",
                    new { Expires = expires, Owner = "cache:" + cacheKey })
                : touched; // an inline answer: the entry is all there is
        }, cancellationToken);
        return result.ServedTo(jobId);
    }

    /// <summary>Caches a job's result for <paramref name="keep"/> after its last use; the entry
    /// references the blobs (in <paramref name="tenantId"/>'s space) as long.</summary>
    public async Task PutAsync(string cacheKey, string model, string tenantId, JobResult result, TimeSpan keep, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        var until = now + keep;
        var json = JsonSerializer.Serialize(result with { CacheHit = false }, Json);
        var added = await store.WriteAsync(c => c.ExecuteAsync(
            """
            INSERT INTO result_cache (cache_key, model, result_json, created_ms, last_used_ms, tenant_id, producer_job, keep_ms, expires_ms)
            VALUES (@Key, @Model, @Json, @Now, @Now, @Tenant, @Producer, @Keep, @Expires)
            ON CONFLICT (cache_key) DO NOTHING
            """, new
            {
                Key = cacheKey, Model = model, Json = json, Now = now.ToUnixTimeMilliseconds(), Tenant = tenantId, Producer = result.ProducedBy ?? "",
                Keep = (long)keep.TotalMilliseconds, Expires = until.ToUnixTimeMilliseconds(),
            }), cancellationToken);
        if (added == 0)
        {
            return;
        }

        var owner = "cache:" + cacheKey;
        var kept = (result.OutputRef is not { } output || await blobs.ShareAsync(tenantId, tenantId, BlobClass.Output, output, owner, until, cancellationToken))
            && (result.ImageRef is not { } image || await blobs.ShareAsync(tenantId, tenantId, BlobClass.Output, image, owner, until, cancellationToken));
        if (!kept)
        {
            await DropAsync([cacheKey], cancellationToken); // erased meanwhile
        }
    }

    /// <summary>Drops the entries job <paramref name="jobId"/> produced (its data is being erased).</summary>
    public async Task<int> DropProducedByAsync(string jobId, CancellationToken cancellationToken = default)
    {
        var keys = await store.ReadAsync(async c => (await c.QueryAsync<string>(
            "SELECT cache_key FROM result_cache WHERE producer_job = @Job", new { Job = jobId })).ToList(), cancellationToken);
        return await DropAsync(keys, cancellationToken);
    }

    /// <summary>Drops every entry a tenant's jobs produced.</summary>
    public Task<int> DropTenantAsync(string tenantId, CancellationToken cancellationToken = default) =>
        store.WriteAsync(c => c.ExecuteAsync("DELETE FROM result_cache WHERE tenant_id = @Tenant", new { Tenant = tenantId }), cancellationToken);

    /// <summary>Drops entries whose retention ended before <paramref name="now"/> (and their references).</summary>
    public async Task<int> SweepAsync(DateTimeOffset now, int max = 1000, CancellationToken cancellationToken = default)
    {
        var keys = await store.ReadAsync(async c => (await c.QueryAsync<string>(
            "SELECT cache_key FROM result_cache WHERE expires_ms < @Now LIMIT @Max", new { Now = now.ToUnixTimeMilliseconds(), Max = max })).ToList(), cancellationToken);
        return await DropAsync(keys, cancellationToken);
    }

    private async Task<int> DropAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        var dropped = 0;
        foreach (var key in keys)
        {
            dropped += await store.WriteAsync(c => c.ExecuteAsync("DELETE FROM result_cache WHERE cache_key = @Key", new { Key = key }), cancellationToken);
            await blobs.ReleaseAsync("cache:" + key, cancellationToken);
        }

        return dropped;
    }

    private sealed record EntryRow(string Json, string Tenant, long KeepMs);
}
