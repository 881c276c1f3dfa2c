using System.Collections.Concurrent;
using Actors.Storage.Blobs;

namespace Actors.Silo.Tests;

/// <summary>Blob settings for silos that keep their blobs in a bucket of the S3-compatible server
/// scripts/test starts (ACTORS_TEST_S3): silos of one cluster share the bucket, no folder.</summary>
internal static class TestBuckets
{
    public static string NewBucket() => "c-" + Guid.NewGuid().ToString("N")[..20];

    public static IEnumerable<(string Key, string Value)> Settings(string bucket) =>
    [
        ("Blobs:Store", "s3"),
        ("Blobs:S3:ServiceUrl", Environment.GetEnvironmentVariable("ACTORS_TEST_S3") is { Length: > 0 } url
            ? url
            : throw new InvalidOperationException("ACTORS_TEST_S3 is not set: run the tests through scripts/test, which starts an S3-compatible server")),
        ("Blobs:S3:Bucket", bucket),
        ("Blobs:S3:Prefix", "actors/"),
        ("Blobs:S3:AccessKey", "S3RVER"),
        ("Blobs:S3:SecretKey", "S3RVER"),
        ("Blobs:S3:CreateBucket", "true"),
    ];

    public static Dictionary<string, string> On(this Dictionary<string, string> settings, string bucket)
    {
        foreach (var (key, value) in Settings(bucket))
        {
            settings[key] = value;
        }

        return settings;
    }
}

/// <summary>The silo's real object store, with uploads of chosen keys refused (a store outage
/// for one object), for the tests of what a failed upload must not lose.</summary>
public sealed class FaultyObjectStore(IObjectStore inner) : IObjectStore
{
    public ConcurrentDictionary<string, bool> FailingKeys { get; } = new(StringComparer.Ordinal);

    public string Kind => inner.Kind;

    public Task PrepareAsync(IReadOnlyDictionary<string, int> expireDays, CancellationToken cancellationToken) => inner.PrepareAsync(expireDays, cancellationToken);

    public Task PutFileAsync(string key, string path, string contentType, CancellationToken cancellationToken) =>
        FailingKeys.ContainsKey(key)
            ? throw new IOException($"injected: the object store refused {key}")
            : inner.PutFileAsync(key, path, contentType, cancellationToken);

    public Task<Stream?> OpenAsync(string key, CancellationToken cancellationToken) => inner.OpenAsync(key, cancellationToken);

    public Task<bool> ExistsAsync(string key, CancellationToken cancellationToken) => inner.ExistsAsync(key, cancellationToken);

    public Task<bool> CopyAsync(string fromKey, string toKey, CancellationToken cancellationToken) => inner.CopyAsync(fromKey, toKey, cancellationToken);

    public Task DeleteAsync(string key, CancellationToken cancellationToken) => inner.DeleteAsync(key, cancellationToken);
}
