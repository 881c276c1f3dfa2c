namespace Actors.Client.Api;

/// <summary>The HTTP API's settings (section "Api").</summary>
public sealed class ClientApiOptions
{
    /// <summary>Largest image or tensor upload accepted (413 above it).</summary>
    public long MaxUploadBytes { get; set; } = 20 * 1024 * 1024;

    /// <summary>Largest NIfTI volume upload accepted, as sent (gzipped or not): seed 001's ~50 MB
    /// CT scans (413 above it).</summary>
    public long MaxVolumeBytes { get; set; } = 50L * 1024 * 1024;

    /// <summary>Largest volume in bytes of voxel data once decompressed (413 above it; a gzip bomb
    /// stops here).</summary>
    public long MaxVolumeVoxelBytes { get; set; } = 256L << 20;

    /// <summary>The largest body any upload may need (base64 JSON is 4/3 of its bytes).</summary>
    public long MaxBodyBytes => Math.Max(MaxUploadBytes, MaxVolumeBytes) * 4 / 3 + 128 * 1024;

    /// <summary>The key for /admin/* (Authorization: Bearer &lt;admin key&gt;). Empty: admin is closed.</summary>
    public string AdminKey { get; set; } = "";

    /// <summary>Longest <c>Prefer: wait=N</c> honoured, in seconds.</summary>
    public int MaxWaitSeconds { get; set; } = 60;

    /// <summary>How long a verified API key is trusted without asking its tenant again.</summary>
    public int AuthCacheSeconds { get; set; } = 1;

    /// <summary>Largest image accepted, in pixels (413 above it).</summary>
    public long MaxImagePixels { get; set; } = 4096L * 4096;

    /// <summary>Where the model manifests are (the catalogue the API validates against).</summary>
    public string ModelsPath { get; set; } = "models";
}
