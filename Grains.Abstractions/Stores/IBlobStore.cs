namespace Actors.Grains.Stores;

/// <summary>Blobs by retention class: a job's upload (input) or what it produced (output).</summary>
public enum BlobClass
{
    Input,
    Output,
}

/// <summary>A stored blob: its SHA-256 (hex) and size.</summary>
[GenerateSerializer(GenerateFieldIds = GenerateFieldIds.PublicProperties), Immutable]
public sealed record StoredBlob([Id(2268228867U)] string Hash, [Id(4079421676U)] long Size);

/// <summary>An open blob: its bytes as a stream, its type and length. Dispose it.</summary>
public sealed class BlobContent(Stream content, string contentType, long size) : IAsyncDisposable, IDisposable
{
    public Stream Content { get; } = content;

    public string ContentType { get; } = contentType;

    public long Size { get; } = size;

    public async Task<byte[]> ReadAllAsync(CancellationToken cancellationToken = default)
    {
        using var buffer = new MemoryStream(Size is > 0 and < int.MaxValue ? (int)Size : 0);
        await Content.CopyToAsync(buffer, cancellationToken);
        return buffer.ToArray();
    }

    public ValueTask DisposeAsync() => Content.DisposeAsync();

    public void Dispose() => Content.Dispose();
}

/// <summary>Bytes already in memory as a read-only stream, without copying them when they sit in an array.</summary>
public static class MemoryStreams
{
    public static MemoryStream Of(ReadOnlyMemory<byte> bytes) =>
        System.Runtime.InteropServices.MemoryMarshal.TryGetArray(bytes, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(bytes.ToArray(), writable: false);
}

/// <summary>Content-addressed blobs in each tenant's own space (one tenant never reads, keeps or
/// deletes another's), kept while something references them: a job (owner <c>job:{id}</c>) or a
/// result-cache entry (<c>cache:{key}</c>), each reference until its class's retention ends.</summary>
public interface IBlobStore
{
    /// <summary>Streams the bytes in (hashing them on the way), stores them once per tenant and
    /// class, and records <paramref name="owner"/>'s reference until <paramref name="keepUntil"/>.</summary>
    Task<StoredBlob> PutAsync(string tenantId, BlobClass blobClass, Stream content, string contentType, string owner, DateTimeOffset keepUntil,
        CancellationToken cancellationToken = default);

    /// <summary>The blob, or null if it is not (or no longer) kept.</summary>
    Task<BlobContent?> OpenAsync(string tenantId, BlobClass blobClass, string hash, CancellationToken cancellationToken = default);

    /// <summary>Adds <paramref name="owner"/>'s reference to a blob of <paramref name="fromTenant"/>,
    /// in <paramref name="toTenant"/>'s space (copied there if the tenants differ); false if the
    /// blob is gone.</summary>
    Task<bool> ShareAsync(string fromTenant, string toTenant, BlobClass blobClass, string hash, string owner, DateTimeOffset keepUntil,
        CancellationToken cancellationToken = default);

    /// <summary>Drops every reference <paramref name="owner"/> holds; blobs nothing else of the same
    /// tenant references are deleted from the store.</summary>
    Task<ErasureCount> ReleaseAsync(string owner, CancellationToken cancellationToken = default);
}

/// <summary>What a release or erasure removed: objects deleted (and their bytes), and objects
/// kept because something else of the tenant still references them.</summary>
[GenerateSerializer(GenerateFieldIds = GenerateFieldIds.PublicProperties), Immutable]
public sealed record ErasureCount([Id(2683559916U)] int Deleted, [Id(2325704761U)] long Bytes, [Id(2967429620U)] int Kept)
{
    public static ErasureCount None { get; } = new(0, 0, 0);

    public ErasureCount Plus(ErasureCount other) => new(Deleted + other.Deleted, Bytes + other.Bytes, Kept + other.Kept);
}
