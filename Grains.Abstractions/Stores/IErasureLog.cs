namespace Actors.Grains.Stores;

/// <summary>One erasure, for audit: who erased what (a job's data or a whole tenant's), when,
/// and how much went; never the content.</summary>
public sealed record ErasureRecord(long Id, DateTimeOffset At, string Actor, string TenantId, string? JobId, string Scope, long Jobs,
    long ObjectsDeleted, long BytesDeleted, long ObjectsKept, long CacheEntries);

/// <summary>The erasure audit trail.</summary>
public interface IErasureLog
{
    /// <summary>Newest first; one tenant's, or all when <paramref name="tenantId"/> is null.</summary>
    Task<IReadOnlyList<ErasureRecord>> ListAsync(string? tenantId, int limit, CancellationToken cancellationToken = default);
}
