using Actors.Storage.Blobs;
using Microsoft.Extensions.Logging.Abstractions;

namespace Actors.Storage.Tests.Blobs;

/// <summary>Object stores for the tests: a temp folder, or a fresh bucket on the S3-compatible
/// server scripts/test starts (ACTORS_TEST_S3, s3rver's S3RVER/S3RVER credentials).</summary>
internal static class TestObjectStores
{
    public static FileObjectStore Folder() => new(Directory.CreateTempSubdirectory("actors-blobs-").FullName);

    public static S3BlobOptions S3Options(string? bucket = null) => new()
    {
        ServiceUrl = Environment.GetEnvironmentVariable("ACTORS_TEST_S3") is { Length: > 0 } url
            ? url
            : throw new InvalidOperationException("ACTORS_TEST_S3 is not set: run the tests through scripts/test, which starts an S3-compatible server on a loopback port"),
        Bucket = bucket ?? "t-" + Guid.NewGuid().ToString("N")[..20],
        Prefix = "cluster-a/",
        AccessKey = "S3RVER",
        SecretKey = "S3RVER",
        CreateBucket = true,
        LifecycleRules = true,
    };

    public static async Task<S3ObjectStore> BucketAsync()
    {
        var store = new S3ObjectStore(S3Options(), NullLogger.Instance);
        await store.PrepareAsync(new Dictionary<string, int> { ["input"] = 8, ["output"] = 31 }, CancellationToken.None);
        return store;
    }
}
