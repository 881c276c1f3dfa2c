using System.Data.Common;
using System.Security.Cryptography;
using Actors.Grains.Stores;
using Actors.Storage.Sql;
using Dapper;

namespace Actors.Storage.Blobs;

/// <summary>Content-addressed blobs in an <see cref="IObjectStore"/> (a folder or an S3 bucket),
/// catalogued in the cluster's store: one row per object (tenant, class, SHA-256, size, type) and
/// one per reference (owner, until when). An object lives while it has references; the sweeper
/// drops references whose retention ended and deletes objects left without any.
/// <para>Deleting races a put of the same bytes: a deleter marks the row (<c>deleting_ms</c>)
/// while holding its lock and only if no reference exists, deletes the object, then the row; a
/// put upserts the row first (taking the same lock), waits while a deletion is in flight, and
/// uploads when the object is missing. So a put that returned has an object that stays.</para></summary>
public sealed class BlobStore(IObjectStore objects, SqlStore store, TimeProvider time) : IBlobStore
{
    /// <summary>A deletion marked longer ago than this died with its silo; a put takes it over.</summary>
    private static readonly TimeSpan StaleDeletion = TimeSpan.FromMinutes(5);

    /// <summary>Objects without references younger than this may be a put in progress.</summary>
    private static readonly TimeSpan OrphanGrace = TimeSpan.FromHours(1);

    public IObjectStore Objects => objects;

    public static string ClassName(BlobClass c) => c == BlobClass.Input ? "input" : "output";

    /// <summary>The object's key: <c>{class}/{tenant}/{ab}/{abcdef…}</c> (a tenant id with other
    /// characters than letters, digits, '_' and '-' is replaced by its hash).</summary>
    public static string KeyOf(string tenantId, BlobClass blobClass, string hash) =>
        $"{ClassName(blobClass)}/{TenantSegment(tenantId)}/{hash[..2]}/{hash}";

    public static bool IsHash(string? text) => text is { Length: 64 } && text.All(char.IsAsciiHexDigitLower);

    public async Task<StoredBlob> PutAsync(string tenantId, BlobClass blobClass, Stream content, string contentType, string owner, DateTimeOffset keepUntil,
        CancellationToken cancellationToken = default)
    {
        var temp = Path.Combine(Path.GetTempPath(), $"actors-blob-{Guid.NewGuid():N}.tmp");
        try
        {
            string hash;
            long size;
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, useAsync: true))
            {
                using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                var buffer = new byte[81920];
                size = 0;
                int read;
                while ((read = await content.ReadAsync(buffer, cancellationToken)) > 0)
                {
                    sha.AppendData(buffer, 0, read);
                    await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                    size += read;
                }

                hash = Convert.ToHexStringLower(sha.GetHashAndReset());
            }

            var key = KeyOf(tenantId, blobClass, hash);
            var mustUpload = await RegisterAsync(tenantId, blobClass, hash, size, contentType, owner, keepUntil, cancellationToken);
            if (mustUpload || !await objects.ExistsAsync(key, cancellationToken))
            {
                await objects.PutFileAsync(key, temp, contentType, cancellationToken);
            }

            return new StoredBlob(hash, size);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    /// <summary>Convenience for bytes already in memory.</summary>
    public Task<StoredBlob> PutAsync(string tenantId, BlobClass blobClass, ReadOnlyMemory<byte> content, string contentType, string owner, DateTimeOffset keepUntil,
        CancellationToken cancellationToken = default) =>
        PutAsync(tenantId, blobClass, MemoryStreams.Of(content), contentType, owner, keepUntil, cancellationToken);

    public async Task<BlobContent?> OpenAsync(string tenantId, BlobClass blobClass, string hash, CancellationToken cancellationToken = default)
    {
        if (!IsHash(hash))
        {
            return null;
        }

        var row = await store.ReadAsync(c => c.QuerySingleOrDefaultAsync<ObjectRow>(
            "SELECT content_type AS Type, size AS Size FROM blob_objects WHERE tenant_id = @Tenant AND class = @Class AND hash = @Hash AND deleting_ms IS NULL",
            Args(tenantId, blobClass, hash)), cancellationToken);
        if (row is not { } found || await objects.OpenAsync(KeyOf(tenantId, blobClass, hash), cancellationToken) is not { } stream)
        {
            return null;
        }

        return new BlobContent(stream, found.Type, found.Size);
    }

    public async Task<bool> ShareAsync(string fromTenant, string toTenant, BlobClass blobClass, string hash, string owner, DateTimeOffset keepUntil,
        CancellationToken cancellationToken = default)
    {
        if (!IsHash(hash))
        {
            return false;
        }

        var source = await store.ReadAsync(c => c.QuerySingleOrDefaultAsync<ObjectRow>(
            "SELECT content_type AS Type, size AS Size FROM blob_objects WHERE tenant_id = @Tenant AND class = @Class AND hash = @Hash AND deleting_ms IS NULL",
            Args(fromTenant, blobClass, hash)), cancellationToken);
        if (source is not { } found)
        {
            return false;
        }

        var key = KeyOf(toTenant, blobClass, hash);
        var mustCopy = await RegisterAsync(toTenant, blobClass, hash, found.Size, found.Type, owner, keepUntil, cancellationToken);
        if (!mustCopy && await objects.ExistsAsync(key, cancellationToken))
        {
            return true;
        }

        if (fromTenant != toTenant && await objects.CopyAsync(KeyOf(fromTenant, blobClass, hash), key, cancellationToken))
        {
            return true;
        }

        // The source is gone: take the reference back (and the row, if it was the only one).
        await ReleaseAsync(owner, toTenant, blobClass, hash, cancellationToken);
        return false;
    }

    public Task<ErasureCount> ReleaseAsync(string owner, CancellationToken cancellationToken = default) =>
        ReleaseAsync(owner, null, cancellationToken);

    /// <summary>Drops one reference of <paramref name="owner"/> (its other references stay).</summary>
    public Task<ErasureCount> ReleaseAsync(string owner, string tenantId, BlobClass blobClass, string hash, CancellationToken cancellationToken = default) =>
        ReleaseAsync(owner, [(tenantId, ClassName(blobClass), hash)], cancellationToken);

    /// <summary>Erases a tenant's blobs: every reference it holds, then every object in its space.</summary>
    public async Task<ErasureCount> EraseTenantAsync(string tenantId, CancellationToken cancellationToken = default)
    {
        var candidates = await store.WriteAsync(async c =>
        {
            await c.ExecuteAsync("DELETE FROM blob_refs WHERE tenant_id = @Tenant", new { Tenant = tenantId });
            return (await c.QueryAsync<(string, string, string)>(
                "SELECT tenant_id, class, hash FROM blob_objects WHERE tenant_id = @Tenant", new { Tenant = tenantId })).ToList();
        }, cancellationToken);
        return await DeleteUnreferencedAsync(candidates, cancellationToken);
    }

    /// <summary>Drops references whose retention ended before <paramref name="now"/>, deletes
    /// objects no reference holds (older than an hour: younger ones may be a put in progress), and
    /// finishes deletions a dead silo left half done. Returns the objects deleted.</summary>
    public async Task<ErasureCount> SweepAsync(DateTimeOffset now, int max = 1000, CancellationToken cancellationToken = default)
    {
        var nowMs = now.ToUnixTimeMilliseconds();
        var candidates = await store.WriteAsync(async c =>
        {
            var expired = (await c.QueryAsync<(string, string, string)>(
                $"""
                DELETE FROM blob_refs WHERE (owner, tenant_id, class, hash) IN
                  (SELECT owner, tenant_id, class, hash FROM blob_refs WHERE expires_ms < @Now LIMIT @Max)
                RETURNING tenant_id, class, hash
                """, new { Now = nowMs, Max = max })).ToList();
            var orphans = await c.QueryAsync<(string, string, string)>(
                """
                SELECT o.tenant_id, o.class, o.hash FROM blob_objects o
                WHERE (o.created_ms < @Grace AND NOT EXISTS (SELECT 1 FROM blob_refs r WHERE r.tenant_id = o.tenant_id AND r.class = o.class AND r.hash = o.hash))
                   OR o.deleting_ms < @Stale
                LIMIT @Max
                """, new { Grace = (now - OrphanGrace).ToUnixTimeMilliseconds(), Stale = (now - StaleDeletion).ToUnixTimeMilliseconds(), Max = max });
            return expired.Concat(orphans).Distinct().ToList();
        }, cancellationToken);
        return await DeleteUnreferencedAsync(candidates, cancellationToken);
    }

    /// <summary>Objects and bytes kept, per class, for the metrics.</summary>
    public Task<IReadOnlyList<(string Class, long Objects, long Bytes)>> TotalsAsync(CancellationToken cancellationToken = default) =>
        store.ReadAsync<IReadOnlyList<(string, long, long)>>(async c => (await c.QueryAsync<(string, long, long)>(
            "SELECT class, COUNT(*), COALESCE(SUM(size), 0) FROM blob_objects WHERE deleting_ms IS NULL GROUP BY class")).ToList(), cancellationToken);

    private async Task<ErasureCount> ReleaseAsync(string owner, IReadOnlyList<(string, string, string)>? only, CancellationToken cancellationToken)
    {
        var released = await store.WriteAsync(async c =>
        {
            if (only is null)
            {
                return (await c.QueryAsync<(string, string, string)>(
                    "DELETE FROM blob_refs WHERE owner = @Owner RETURNING tenant_id, class, hash", new { Owner = owner })).ToList();
            }

            foreach (var (tenant, cls, hash) in only)
            {
                await c.ExecuteAsync("DELETE FROM blob_refs WHERE owner = @Owner AND tenant_id = @Tenant AND class = @Class AND hash = @Hash",
                    new { Owner = owner, Tenant = tenant, Class = cls, Hash = hash });
            }

            return only.ToList();
        }, cancellationToken);
        return await DeleteUnreferencedAsync(released, cancellationToken);
    }

    /// <summary>Deletes each object no reference holds (see the class remarks for the protocol).</summary>
    private async Task<ErasureCount> DeleteUnreferencedAsync(IReadOnlyCollection<(string Tenant, string Class, string Hash)> candidates, CancellationToken cancellationToken)
    {
        var count = ErasureCount.None;
        var forUpdate = store.IsPostgres ? " FOR UPDATE" : "";
        foreach (var (tenant, cls, hash) in candidates.Distinct())
        {
            var args = new { Tenant = tenant, Class = cls, Hash = hash, Now = time.GetUtcNow().ToUnixTimeMilliseconds() };
            var marked = await store.WriteAsync(async c =>
            {
                await using var tx = await c.BeginTransactionAsync(cancellationToken);
                var size = await c.QuerySingleOrDefaultAsync<long?>(
                    $"SELECT size FROM blob_objects WHERE tenant_id = @Tenant AND class = @Class AND hash = @Hash{forUpdate}", args, tx);
                if (size is null)
                {
                    return (long?)null;
                }

                if (await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM blob_refs WHERE tenant_id = @Tenant AND class = @Class AND hash = @Hash", args, tx) > 0)
                {
                    return -1;
                }

                await c.ExecuteAsync("UPDATE blob_objects SET deleting_ms = @Now WHERE tenant_id = @Tenant AND class = @Class AND hash = @Hash", args, tx);
                await tx.CommitAsync(cancellationToken);
                return size;
            }, cancellationToken);
            if (marked is null)
            {
                continue;
            }

            if (marked < 0)
            {
                count = count.Plus(new ErasureCount(0, 0, 1));
                continue;
            }

            var blobClass = cls == "input" ? BlobClass.Input : BlobClass.Output;
            await objects.DeleteAsync(KeyOf(tenant, blobClass, hash), cancellationToken);
            await store.WriteAsync(c => c.ExecuteAsync(
                "DELETE FROM blob_objects WHERE tenant_id = @Tenant AND class = @Class AND hash = @Hash AND deleting_ms = @Now", args), cancellationToken);
            count = count.Plus(new ErasureCount(1, marked.Value, 0));
        }

        return count;
    }

    /// <summary>Upserts the object's row (locking it) and the owner's reference in one
    /// transaction; waits while a deletion of the object is in flight. True when the caller must
    /// upload (it took over a deletion a dead silo left).</summary>
    private async Task<bool> RegisterAsync(string tenantId, BlobClass blobClass, string hash, long size, string contentType, string owner, DateTimeOffset keepUntil,
        CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var now = time.GetUtcNow();
            var args = new
            {
                Tenant = tenantId, Class = ClassName(blobClass), Hash = hash, Size = size, Type = contentType, Owner = owner,
                Now = now.ToUnixTimeMilliseconds(), Until = keepUntil.ToUnixTimeMilliseconds(),
            };
            var outcome = await store.WriteAsync(async c =>
            {
                await using var tx = await c.BeginTransactionAsync(cancellationToken);
                var deleting = await c.QuerySingleAsync<long?>(
                    """
                    INSERT INTO blob_objects (tenant_id, class, hash, size, content_type, created_ms) VALUES (@Tenant, @Class, @Hash, @Size, @Type, @Now)
                    ON CONFLICT (tenant_id, class, hash) DO UPDATE SET size = excluded.size
                    RETURNING deleting_ms
                    """, args, tx);
                var upload = false;
                if (deleting is { } since)
                {
                    if (now - DateTimeOffset.FromUnixTimeMilliseconds(since) < StaleDeletion)
                    {
                        return (bool?)null; // rolled back: wait for the deleter
                    }

                    await c.ExecuteAsync("UPDATE blob_objects SET deleting_ms = NULL WHERE tenant_id = @Tenant AND class = @Class AND hash = @Hash", args, tx);
                    upload = true;
                }

                await c.ExecuteAsync(
                    """
                    INSERT INTO blob_refs (owner, tenant_id, class, hash, expires_ms) VALUES (@Owner, @Tenant, @Class, @Hash, @Until)
                    ON CONFLICT (owner, tenant_id, class, hash) DO UPDATE SET expires_ms = CASE WHEN excluded.expires_ms > blob_refs.expires_ms THEN excluded.expires_ms ELSE blob_refs.expires_ms END
                    """, args, tx);
                await tx.CommitAsync(cancellationToken);
                return upload;
            }, cancellationToken);
            if (outcome is { } mustUpload)
            {
                return mustUpload;
            }

            if (attempt > 400)
            {
                throw new IOException($"blob {hash} stayed marked for deletion for over 20 s");
            }

            await Task.Delay(50, cancellationToken);
        }
    }

    private sealed record ObjectRow(string Type, long Size);

    private static object Args(string tenantId, BlobClass blobClass, string hash) => new { Tenant = tenantId, Class = ClassName(blobClass), Hash = hash };

    private static string TenantSegment(string tenantId) =>
        tenantId.Length is > 0 and <= 64 && tenantId.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-')
            ? tenantId
            : "h-" + Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(tenantId)))[..32];
}
