namespace Actors.Grains.Stores;

/// <summary>Content-addressed blobs (job inputs, outputs, images), named by the SHA-256 of their bytes.</summary>
public interface IBlobStore
{
    /// <summary>Stores the bytes (once, however often they are put) and returns their hash.</summary>
    Task<string> PutAsync(ReadOnlyMemory<byte> content, string contentType, CancellationToken cancellationToken = default);

    /// <summary>The blob's bytes and content type, or null if there is no such blob.</summary>
    Task<(byte[] Content, string ContentType)?> GetAsync(string hash, CancellationToken cancellationToken = default);
}
