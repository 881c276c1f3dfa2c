namespace Actors.Storage.Blobs;

/// <summary>Section "Blobs": where job inputs and outputs are kept. <c>file</c> (the embedded
/// default): a folder, <see cref="Path"/> (default {Cluster:DataPath}/blobs), which every silo of a
/// cluster would have to mount; <c>s3</c>: an S3-compatible bucket (<see cref="S3"/>), which silos
/// share without a shared folder.</summary>
public sealed class BlobOptions
{
    public const string Section = "Blobs";

    public string Store { get; set; } = "file";

    public string? Path { get; set; }

    public S3BlobOptions S3 { get; set; } = new();

    public bool IsS3 => Store.Equals("s3", StringComparison.OrdinalIgnoreCase);

    /// <summary>Null when the settings make sense.</summary>
    public string? Problem() => Store.ToLowerInvariant() switch
    {
        "file" => null,
        "s3" when S3.Bucket.Length == 0 => "Blobs:S3:Bucket is required when Blobs:Store is s3",
        "s3" when S3.ServiceUrl.Length > 0 && !Uri.TryCreate(S3.ServiceUrl, UriKind.Absolute, out _) => "Blobs:S3:ServiceUrl must be an absolute URL",
        "s3" when S3.AccessKey.Length > 0 != S3.SecretKey.Length > 0 => "Blobs:S3:AccessKey and SecretKey go together",
        "s3" => null,
        _ => "Blobs:Store must be file or s3",
    };
}
