using System.Security.Cryptography;
using System.Text;
using Actors.Grains.Jobs;
using Actors.Grains.Stores;
using Actors.Storage.Blobs;
using Actors.Storage.Cache;
using Actors.Storage.Sql;
using Actors.Storage.Tests.Storage;

namespace Actors.Storage.Tests.Blobs;

/// <summary>What every blob store must do, on each object store (a folder, an S3 bucket) and
/// each SQL store: content-addressed per tenant and class, kept while referenced, deleted by
/// retention or erasure unless another owner of the same tenant still holds it.</summary>
public abstract class BlobStoreConformance : IAsyncLifetime
{
    private static readonly DateTimeOffset Start = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    protected ManualTime Time { get; } = new(Start);

    protected BlobStore Blobs { get; private set; } = null!;

    protected IObjectStore Objects { get; private set; } = null!;

    private SqlStore _sql = null!;

    protected abstract Task<IObjectStore> ObjectsAsync();

    protected abstract Task<SqlStore> SqlAsync();

    public async ValueTask InitializeAsync()
    {
        Objects = await ObjectsAsync();
        _sql = await SqlAsync();
        Blobs = new BlobStore(Objects, _sql, Time);
    }

    public ValueTask DisposeAsync()
    {
        (Objects as IDisposable)?.Dispose();
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    private DateTimeOffset Days(double days) => Time.GetUtcNow().AddDays(days);

    private async Task<string?> ReadAsync(string tenant, BlobClass c, string hash)
    {
        await using var blob = await Blobs.OpenAsync(tenant, c, hash);
        return blob is null ? null : Encoding.UTF8.GetString(await blob.ReadAllAsync());
    }

    [Fact]
    public async Task TheSameBytesAreStoredOncePerTenantAndClassAndReadBackStreamed()
    {
        var first = await Blobs.PutAsync("t1", BlobClass.Input, Bytes("scan-1"), "image/png", "job:a", Days(7));
        var again = await Blobs.PutAsync("t1", BlobClass.Input, Bytes("scan-1"), "image/png", "job:b", Days(7));

        Assert.Equal(first, again);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Bytes("scan-1"))), first.Hash);
        await using (var blob = await Blobs.OpenAsync("t1", BlobClass.Input, first.Hash))
        {
            Assert.NotNull(blob);
            Assert.Equal(("image/png", 6L), (blob.ContentType, blob.Size));
            Assert.Equal("scan-1", Encoding.UTF8.GetString(await blob.ReadAllAsync()));
        }

        // Another tenant, another class, a malformed hash: nothing.
        Assert.Null(await ReadAsync("t2", BlobClass.Input, first.Hash));
        Assert.Null(await ReadAsync("t1", BlobClass.Output, first.Hash));
        Assert.Null(await ReadAsync("t1", BlobClass.Input, "../../etc/passwd"));
    }

    [Fact]
    public async Task ALargeUploadIsStreamedThroughAndHashedOnTheWay()
    {
        // 24 MiB produced on the fly: the store spools it, it is never one array here.
        const int size = 24 << 20;
        using var source = new PatternStream(size);
        var stored = await Blobs.PutAsync("t1", BlobClass.Input, source, "application/octet-stream", "job:big", Days(7));

        Assert.Equal(size, stored.Size);
        await using var blob = await Blobs.OpenAsync("t1", BlobClass.Input, stored.Hash);
        Assert.NotNull(blob);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 16];
        long read = 0;
        int n;
        while ((n = await blob.Content.ReadAsync(buffer)) > 0)
        {
            sha.AppendData(buffer, 0, n);
            read += n;
        }

        Assert.Equal((size, stored.Hash), (read, Convert.ToHexStringLower(sha.GetHashAndReset())));
    }

    [Fact]
    public async Task ReleasingOneOwnerKeepsTheBytesWhileAnotherOwnerOfTheTenantHoldsThem()
    {
        var blob = await Blobs.PutAsync("t1", BlobClass.Input, Bytes("shared scan"), "image/png", "job:a", Days(7));
        await Blobs.PutAsync("t1", BlobClass.Input, Bytes("shared scan"), "image/png", "job:b", Days(7));
        var key = BlobStore.KeyOf("t1", BlobClass.Input, blob.Hash);

        Assert.Equal(new ErasureCount(0, 0, 1), await Blobs.ReleaseAsync("job:a"));
        Assert.Equal("shared scan", await ReadAsync("t1", BlobClass.Input, blob.Hash));

        Assert.Equal(new ErasureCount(1, 11, 0), await Blobs.ReleaseAsync("job:b"));
        Assert.Null(await ReadAsync("t1", BlobClass.Input, blob.Hash));
        Assert.False(await Objects.ExistsAsync(key, CancellationToken.None)); // gone from the store, not just hidden
        Assert.Equal(ErasureCount.None, await Blobs.ReleaseAsync("job:b")); // again: nothing
    }

    [Fact]
    public async Task ErasingATenantLeavesAnotherTenantsCopyOfTheSameBytes()
    {
        var x = await Blobs.PutAsync("tx", BlobClass.Input, Bytes("same bytes"), "image/png", "job:x1", Days(7));
        await Blobs.PutAsync("tx", BlobClass.Output, Bytes("{\"x\":1}"), "application/json", "job:x1", Days(30));
        await Blobs.PutAsync("ty", BlobClass.Input, Bytes("same bytes"), "image/png", "job:y1", Days(7));

        var erased = await Blobs.EraseTenantAsync("tx");

        Assert.Equal(2, erased.Deleted);
        Assert.Null(await ReadAsync("tx", BlobClass.Input, x.Hash));
        Assert.Equal("same bytes", await ReadAsync("ty", BlobClass.Input, x.Hash));
    }

    [Fact]
    public async Task TheSweeperDeletesEachClassWhenItsRetentionEnds()
    {
        var input = await Blobs.PutAsync("t1", BlobClass.Input, Bytes("raw scan"), "image/png", "job:r", Days(7));
        var output = await Blobs.PutAsync("t1", BlobClass.Output, Bytes("{\"passport\":1}"), "application/json", "job:r", Days(30));

        Time.Advance(TimeSpan.FromDays(6));
        Assert.Equal(0, (await Blobs.SweepAsync(Time.GetUtcNow())).Deleted);

        Time.Advance(TimeSpan.FromDays(2)); // day 8: the raw input is past 7 days, the output is not
        Assert.Equal(1, (await Blobs.SweepAsync(Time.GetUtcNow())).Deleted);
        Assert.Null(await ReadAsync("t1", BlobClass.Input, input.Hash));
        Assert.NotNull(await ReadAsync("t1", BlobClass.Output, output.Hash));

        Time.Advance(TimeSpan.FromDays(23)); // day 31
        Assert.Equal(1, (await Blobs.SweepAsync(Time.GetUtcNow())).Deleted);
        Assert.Null(await ReadAsync("t1", BlobClass.Output, output.Hash));
        Assert.DoesNotContain(await Blobs.TotalsAsync(), t => t.Objects > 0);
    }

    [Fact]
    public async Task ALaterReferenceExtendsTheBytesPastTheFirstOnesRetention()
    {
        var blob = await Blobs.PutAsync("t1", BlobClass.Input, Bytes("resubmitted"), "image/png", "job:first", Days(7));
        Time.Advance(TimeSpan.FromDays(5));
        await Blobs.PutAsync("t1", BlobClass.Input, Bytes("resubmitted"), "image/png", "job:second", Days(7));

        Time.Advance(TimeSpan.FromDays(3)); // the first reference lapsed, the second holds
        var swept = await Blobs.SweepAsync(Time.GetUtcNow());
        Assert.Equal((0, 1), (swept.Deleted, swept.Kept));
        Assert.Equal("resubmitted", await ReadAsync("t1", BlobClass.Input, blob.Hash));
    }

    [Fact]
    public async Task SharingCopiesIntoTheOtherTenantsSpaceAndAGoneBlobIsNotShared()
    {
        var blob = await Blobs.PutAsync("tx", BlobClass.Output, Bytes("{\"answer\":42}"), "application/json", "job:x", Days(30));

        Assert.True(await Blobs.ShareAsync("tx", "ty", BlobClass.Output, blob.Hash, "job:y", Days(30)));
        await Blobs.ReleaseAsync("job:x"); // the producer erases its own
        Assert.Equal("{\"answer\":42}", await ReadAsync("ty", BlobClass.Output, blob.Hash));

        Assert.False(await Blobs.ShareAsync("tx", "tz", BlobClass.Output, blob.Hash, "job:z", Days(30)));
        Assert.Null(await ReadAsync("tz", BlobClass.Output, blob.Hash));
    }

    [Fact]
    public async Task APutRacingTheDeletionOfTheSameBytesNeverLosesThem()
    {
        // Over and over: one owner lets go while another stores the same bytes. Whichever wins,
        // the bytes the second owner was told are stored must be there.
        for (var i = 0; i < 25; i++)
        {
            var content = Bytes($"racing scan {i}");
            var blob = await Blobs.PutAsync("t1", BlobClass.Input, content, "image/png", $"job:old{i}", Days(7));
            var release = Task.Run(() => Blobs.ReleaseAsync($"job:old{i}"));
            var put = Task.Run(() => Blobs.PutAsync("t1", BlobClass.Input, content, "image/png", $"job:new{i}", Days(7)));
            await Task.WhenAll(release, put);
            Assert.Equal($"racing scan {i}", await ReadAsync("t1", BlobClass.Input, blob.Hash));
        }
    }

    [Fact]
    public async Task ACacheHitNeverServesAResultWhoseBlobsAreGone()
    {
        var cache = new ResultCache(_sql, Blobs, Time);
        var output = await Blobs.PutAsync("tx", BlobClass.Output, Bytes("{\"cached\":true}"), "application/json", "job:p", Days(30));
        var result = new JobResult(output.Hash, null, false, 3, "p");
        await cache.PutAsync("key-1", "segmentation", "tx", result, TimeSpan.FromDays(30));

        // Another tenant's hit gets its own copy; the same tenant's hit a reference.
        var hit = await cache.ServeAsync("key-1", "ty", "q", Days(30));
        Assert.Equal((true, output.Hash), (hit!.CacheHit, hit.OutputRef));
        Assert.Equal("{\"cached\":true}", await ReadAsync("ty", BlobClass.Output, output.Hash));

        // The producer's data is erased: its entry goes with it, and a later lookup misses.
        await Blobs.ReleaseAsync("job:p");
        Assert.Equal(1, await cache.DropProducedByAsync("p"));
        Assert.Null(await cache.ServeAsync("key-1", "tx", "r", Days(30)));
        Assert.Null(await ReadAsync("tx", BlobClass.Output, output.Hash));
        Assert.Equal("{\"cached\":true}", await ReadAsync("ty", BlobClass.Output, output.Hash)); // the hitter's copy is its own

        // An entry whose object vanished behind our back (a lifecycle rule) is dropped, not served.
        var other = await Blobs.PutAsync("tx", BlobClass.Output, Bytes("{\"n\":2}"), "application/json", "job:p2", Days(30));
        await cache.PutAsync("key-2", "segmentation", "tx", new JobResult(other.Hash, null, false, 3, "p2"), TimeSpan.FromDays(30));
        await Objects.DeleteAsync(BlobStore.KeyOf("tx", BlobClass.Output, other.Hash), CancellationToken.None);
        Assert.Null(await cache.ServeAsync("key-2", "tx", "s", Days(30)));
        Assert.Null(await cache.ServeAsync("key-2", "ty", "t", Days(30)));
    }

    [Fact]
    public async Task CacheEntriesExpireTheirPlansCacheDaysAfterTheirLastUse()
    {
        var cache = new ResultCache(_sql, Blobs, Time);
        var output = await Blobs.PutAsync("tx", BlobClass.Output, Bytes("{\"c\":1}"), "application/json", "job:p", Days(30));
        await cache.PutAsync("key-c", "diffusion", "tx", new JobResult(output.Hash, null, false, 1, "p"), TimeSpan.FromDays(30));

        Time.Advance(TimeSpan.FromDays(20));
        Assert.NotNull(await cache.ServeAsync("key-c", "tx", "h1", Days(30))); // used on day 20: kept to day 50
        Time.Advance(TimeSpan.FromDays(25));
        Assert.Equal(0, await cache.SweepAsync(Time.GetUtcNow()));
        Assert.NotNull(await cache.ServeAsync("key-c", "tx", "h2", Days(30)));

        Time.Advance(TimeSpan.FromDays(31));
        Assert.Equal(1, await cache.SweepAsync(Time.GetUtcNow()));
        Assert.Null(await cache.ServeAsync("key-c", "tx", "h3", Days(30)));
    }

    /// <summary>A deterministic byte stream of a given length, produced as it is read.</summary>
    private sealed class PatternStream(long length) : Stream
    {
        private long _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => length;

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = (int)Math.Min(count, length - _position);
            for (var i = 0; i < n; i++)
            {
                buffer[offset + i] = (byte)((_position + i) * 31 % 251);
            }

            _position += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

public sealed class FileBlobsOnSqliteTests : BlobStoreConformance
{
    protected override Task<IObjectStore> ObjectsAsync() => Task.FromResult<IObjectStore>(TestObjectStores.Folder());

    protected override async Task<SqlStore> SqlAsync()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("actors-blobs-db-").FullName, "blobs.db");
        return ClusterStore.Sqlite(await MigratedStores.SqliteAsync(path), Time).Sql;
    }
}

public sealed class S3BlobsOnSqliteTests : BlobStoreConformance
{
    protected override async Task<IObjectStore> ObjectsAsync() => await TestObjectStores.BucketAsync();

    protected override async Task<SqlStore> SqlAsync()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("actors-blobs-db-").FullName, "blobs.db");
        return ClusterStore.Sqlite(await MigratedStores.SqliteAsync(path), Time).Sql;
    }
}

public sealed class S3BlobsOnPostgresTests : BlobStoreConformance
{
    private readonly PostgresDatabase _database = new(); // a database per test: no test sees another's rows

    protected override async Task<IObjectStore> ObjectsAsync() => await TestObjectStores.BucketAsync();

    protected override async Task<SqlStore> SqlAsync()
    {
        await _database.InitializeAsync();
        return ClusterStore.Postgres(await MigratedStores.PostgresAsync(_database.ConnectionString), Time).Sql;
    }
}
