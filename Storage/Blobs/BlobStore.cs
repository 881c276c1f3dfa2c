using System.Security.Cryptography;
using Actors.Grains.Stores;
using Actors.Storage.Sql;
using Dapper;

namespace Actors.Storage.Blobs;

/// <summary>Content-addressed blobs: files under <c>{root}/ab/cdef…</c> named by their SHA-256,
/// with a row each (size, type, last use) in the store. Writing the same bytes twice stores them
/// once. In a cluster every silo must see the same root (a shared volume).</summary>
public sealed class BlobStore(string root, SqlStore store, TimeProvider time) : IBlobStore
{
    public string Root { get; } = Path.GetFullPath(root);

    public async Task<string> PutAsync(ReadOnlyMemory<byte> content, string contentType, CancellationToken cancellationToken = default)
    {
        var hash = Convert.ToHexStringLower(SHA256.HashData(content.Span));
        var path = PathOf(hash);
        if (!File.Exists(path))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var temp = $"{path}.{Guid.NewGuid():N}.tmp";
            await File.WriteAllBytesAsync(temp, content, cancellationToken);
            File.Move(temp, path, overwrite: true); // same bytes whoever wins
        }

        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        await store.WriteAsync(c => c.ExecuteAsync(
            """
            INSERT INTO blobs (hash, size, content_type, created_ms, last_used_ms) VALUES (@Hash, @Size, @Type, @Now, @Now)
            ON CONFLICT (hash) DO UPDATE SET last_used_ms = excluded.last_used_ms
            """, new { Hash = hash, Size = (long)content.Length, Type = contentType, Now = now }), cancellationToken);
        return hash;
    }

    /// <summary>The blob's bytes and content type, or null if there is no such blob.</summary>
    public async Task<(byte[] Content, string ContentType)?> GetAsync(string hash, CancellationToken cancellationToken = default)
    {
        if (!IsHash(hash))
        {
            return null;
        }

        var type = await store.ReadAsync(c => c.QuerySingleOrDefaultAsync<string?>("SELECT content_type FROM blobs WHERE hash = @Hash", new { Hash = hash }), cancellationToken);
        var path = PathOf(hash);
        if (type is null || !File.Exists(path))
        {
            return null;
        }

        return (await File.ReadAllBytesAsync(path, cancellationToken), type);
    }

    /// <summary>Marks blobs as still in use (a cache hit keeps them alive).</summary>
    public Task TouchAsync(IEnumerable<string> hashes, CancellationToken cancellationToken = default)
    {
        var list = hashes.ToArray();
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        return store.WriteAsync(async c =>
        {
            foreach (var hash in list)
            {
                await c.ExecuteAsync("UPDATE blobs SET last_used_ms = @Now WHERE hash = @Hash", new { Now = now, Hash = hash });
            }

            return list.Length;
        }, cancellationToken);
    }

    /// <summary>Deletes blobs not used since <paramref name="cutoff"/>; returns how many.</summary>
    public async Task<int> SweepAsync(DateTimeOffset cutoff, CancellationToken cancellationToken = default)
    {
        var old = await store.WriteAsync(async c => (await c.QueryAsync<string>(
            "DELETE FROM blobs WHERE last_used_ms < @Cut RETURNING hash", new { Cut = cutoff.ToUnixTimeMilliseconds() })).ToList(), cancellationToken);
        foreach (var hash in old)
        {
            File.Delete(PathOf(hash));
        }

        return old.Count;
    }

    public static bool IsHash(string? text) => text is { Length: 64 } && text.All(char.IsAsciiHexDigitLower);

    private string PathOf(string hash) => Path.Combine(Root, hash[..2], hash[2..]);
}
