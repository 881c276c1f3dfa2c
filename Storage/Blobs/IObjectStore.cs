namespace Actors.Storage.Blobs;

/// <summary>Where blob bytes live, by key: a folder (the embedded default) or an S3-compatible
/// bucket. Knows nothing of hashes, tenants or retention — <see cref="BlobStore"/> does.</summary>
public interface IObjectStore
{
    /// <summary>"file" or "s3", for health and logs.</summary>
    string Kind { get; }

    /// <summary>Readies the store at start: the folder, or the bucket (created if configured so) and
    /// its lifecycle rules (each class's prefix expires after <paramref name="expireDays"/>) where
    /// the store takes them.</summary>
    Task PrepareAsync(IReadOnlyDictionary<string, int> expireDays, CancellationToken cancellationToken);

    /// <summary>Stores the file's bytes under the key (replacing what was there).</summary>
    Task PutFileAsync(string key, string path, string contentType, CancellationToken cancellationToken);

    /// <summary>The object's bytes as a stream (the caller disposes it), or null if there is none.</summary>
    Task<Stream?> OpenAsync(string key, CancellationToken cancellationToken);

    Task<bool> ExistsAsync(string key, CancellationToken cancellationToken);

    /// <summary>Copies inside the store (no bytes through this process where the store can);
    /// false if the source is gone.</summary>
    Task<bool> CopyAsync(string fromKey, string toKey, CancellationToken cancellationToken);

    /// <summary>Deletes the object; no error if it is already gone.</summary>
    Task DeleteAsync(string key, CancellationToken cancellationToken);
}
