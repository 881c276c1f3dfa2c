using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.Logging;

namespace Actors.Storage.Blobs;

/// <summary>Objects in an S3-compatible bucket (AWS, MinIO, R2, s3rver …) through AWSSDK.S3,
/// keys under <see cref="S3BlobOptions.Prefix"/>. Uploads stream from a file (the blob store
/// spools every upload to one while hashing it), downloads stream from the response.</summary>
public sealed partial class S3ObjectStore : IObjectStore, IDisposable
{
    private readonly AmazonS3Client _client;
    private readonly S3BlobOptions _options;
    private readonly ILogger _logger;
    private volatile bool _copyThrough;

    public S3ObjectStore(S3BlobOptions options, ILogger logger)
    {
        _options = options;
        _logger = logger;
        var config = new AmazonS3Config
        {
            // Third-party stores do not all speak the SDK's default trailing CRC checksums.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
            MaxErrorRetry = 3,
        };
        if (options.ServiceUrl is { Length: > 0 } url)
        {
            config.ServiceURL = url;
            config.AuthenticationRegion = options.Region;
            config.ForcePathStyle = options.ForcePathStyle ?? true;
        }
        else
        {
            config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(options.Region);
            config.ForcePathStyle = options.ForcePathStyle ?? false;
        }

        _client = options.AccessKey is { Length: > 0 } access
            ? new AmazonS3Client(new BasicAWSCredentials(access, options.SecretKey), config)
            : new AmazonS3Client(config); // the SDK's default chain: environment, profile, instance role
    }

    public string Kind => "s3";

    /// <summary>Creates the bucket if asked to and it is missing; then, if asked, sets lifecycle
    /// rules (expire each class's prefix after <paramref name="expireDays"/>) as a safety net
    /// behind the sweeper. A store without lifecycle support is logged, not fatal.</summary>
    public async Task PrepareAsync(IReadOnlyDictionary<string, int> expireDays, CancellationToken cancellationToken)
    {
        if (_options.CreateBucket)
        {
            try
            {
                await _client.PutBucketAsync(new PutBucketRequest { BucketName = _options.Bucket }, cancellationToken);
            }
            catch (AmazonS3Exception e) when (e.ErrorCode is "BucketAlreadyOwnedByYou" or "BucketAlreadyExists")
            {
            }
        }

        if (!_options.LifecycleRules || expireDays.Count == 0)
        {
            return;
        }

        try
        {
            await _client.PutLifecycleConfigurationAsync(new PutLifecycleConfigurationRequest
            {
                BucketName = _options.Bucket,
                Configuration = new LifecycleConfiguration
                {
                    Rules = [.. expireDays.Select(c => new LifecycleRule
                    {
                        Id = $"actors-{c.Key}",
                        Status = LifecycleRuleStatus.Enabled,
                        Filter = new LifecycleFilter { LifecycleFilterPredicate = new LifecyclePrefixPredicate { Prefix = _options.Prefix + c.Key + "/" } },
                        Expiration = new LifecycleRuleExpiration { Days = c.Value },
                    })],
                },
            }, cancellationToken);
            var rules = string.Join(", ", expireDays.Select(c => $"{c.Key} {c.Value} d"));
            LogLifecycle(_logger, _options.Bucket, rules);
        }
        catch (AmazonS3Exception e)
        {
            LogNoLifecycle(_logger, _options.Bucket, e.ErrorCode ?? e.StatusCode.ToString());
        }
    }

    public async Task PutFileAsync(string key, string path, string contentType, CancellationToken cancellationToken)
    {
        await _client.PutObjectAsync(new PutObjectRequest
        {
            BucketName = _options.Bucket,
            Key = _options.Prefix + key,
            FilePath = path,
            ContentType = contentType.Length > 0 ? contentType : "application/octet-stream",
            UseChunkEncoding = _options.ChunkEncoding,
        }, cancellationToken);
    }

    public async Task<Stream?> OpenAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            var response = await _client.GetObjectAsync(_options.Bucket, _options.Prefix + key, cancellationToken);
            return new ResponseStream(response);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    public async Task<bool> ExistsAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            await _client.GetObjectMetadataAsync(_options.Bucket, _options.Prefix + key, cancellationToken);
            return true;
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }
    }

    public async Task<bool> CopyAsync(string fromKey, string toKey, CancellationToken cancellationToken)
    {
        if (!_copyThrough)
        {
            try
            {
                await _client.CopyObjectAsync(new CopyObjectRequest
                {
                    SourceBucket = _options.Bucket,
                    SourceKey = _options.Prefix + fromKey,
                    DestinationBucket = _options.Bucket,
                    DestinationKey = _options.Prefix + toKey,
                }, cancellationToken);
                return true;
            }
            catch (AmazonS3Exception e) when (e.ErrorCode == "NoSuchKey")
            {
                return false;
            }
            catch (AmazonS3Exception e) when (e.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.NotImplemented or HttpStatusCode.BadRequest)
            {
                // A store that misreads x-amz-copy-source (s3rver) or has no server-side copy.
                _copyThrough = true;
                LogCopyThrough(_logger, _options.Bucket, e.ErrorCode ?? e.StatusCode.ToString());
            }
        }

        await using var source = await OpenAsync(fromKey, cancellationToken);
        if (source is null)
        {
            return false;
        }

        var temp = Path.Combine(Path.GetTempPath(), $"actors-copy-{Guid.NewGuid():N}.tmp");
        try
        {
            await using (var file = File.Create(temp))
            {
                await source.CopyToAsync(file, cancellationToken);
            }

            await PutFileAsync(toKey, temp, "", cancellationToken);
            return true;
        }
        finally
        {
            File.Delete(temp);
        }
    }

    public async Task DeleteAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            await _client.DeleteObjectAsync(_options.Bucket, _options.Prefix + key, cancellationToken);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
        }
    }

    public void Dispose() => _client.Dispose();

    /// <summary>The response body; disposing it disposes the response (and its connection).</summary>
    private sealed class ResponseStream(GetObjectResponse response) : Stream
    {
        private readonly Stream _inner = response.ResponseStream;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => response.ContentLength;

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, count);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            _inner.ReadAsync(buffer, offset, count, cancellationToken);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            _inner.ReadAsync(buffer, cancellationToken);

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                response.Dispose();
            }

            base.Dispose(disposing);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "S3 bucket {Bucket}: the store refused a server-side copy ({Error}); copies now go through this silo")]
    private static partial void LogCopyThrough(ILogger logger, string bucket, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "S3 bucket {Bucket}: lifecycle rules set ({Rules})")]
    private static partial void LogLifecycle(ILogger logger, string bucket, string rules);

    [LoggerMessage(Level = LogLevel.Warning, Message = "S3 bucket {Bucket}: the store refused lifecycle rules ({Error}); the sweeper alone deletes expired blobs")]
    private static partial void LogNoLifecycle(ILogger logger, string bucket, string error);
}

/// <summary>Section "Blobs:S3": an S3-compatible bucket for blobs.</summary>
public sealed class S3BlobOptions
{
    /// <summary>The store's endpoint for non-AWS stores (http://minio:9000); empty: AWS by region.</summary>
    public string ServiceUrl { get; set; } = "";

    public string Region { get; set; } = "us-east-1";

    public string Bucket { get; set; } = "";

    /// <summary>Keys start with this (e.g. "actors/"), so one bucket can hold several clusters.</summary>
    public string Prefix { get; set; } = "";

    /// <summary>Empty: the SDK's default credential chain (environment, profile, instance role).</summary>
    public string AccessKey { get; set; } = "";

    public string SecretKey { get; set; } = "";

    /// <summary>Path-style addressing (http://host/bucket/key); default: on with a ServiceUrl, off on AWS.</summary>
    public bool? ForcePathStyle { get; set; }

    /// <summary>Create the bucket at start if it is missing.</summary>
    public bool CreateBucket { get; set; }

    /// <summary>Set lifecycle rules (each class's prefix expires a day after the longest retention
    /// any plan gives it) as a safety net behind the sweeper.</summary>
    public bool LifecycleRules { get; set; }

    /// <summary>aws-chunked uploads (streaming SigV4). Off by default: the SDK signs the whole
    /// spooled file instead, which every S3-compatible store takes (s3rver stores aws-chunked
    /// framing as if it were the object).</summary>
    public bool ChunkEncoding { get; set; }
}
