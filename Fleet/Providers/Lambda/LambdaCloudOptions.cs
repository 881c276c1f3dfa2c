namespace Actors.Fleet.Providers.Lambda;

/// <summary>Section "Providers:Lambda": Lambda Cloud's public API (<c>/api/v1</c>). The key comes
/// from <see cref="ApiKey"/> or, better, <see cref="ApiKeyFile"/> (a secrets file: its first line);
/// it is never logged, shown by an endpoint or kept in an error.</summary>
public sealed class LambdaCloudOptions
{
    public const string Section = "Providers:Lambda";

    /// <summary>Lambda's API root (the older host, https://cloud.lambdalabs.com/api/v1, also answers).</summary>
    public string BaseUrl { get; set; } = "https://cloud.lambda.ai/api/v1";

    public string? ApiKey { get; set; }

    public string? ApiKeyFile { get; set; }

    /// <summary>The SSH key every launch names (Lambda requires exactly one).</summary>
    public string SshKeyName { get; set; } = "";

    /// <summary>Every machine we launch is named with this prefix; only such machines are ever
    /// listed as ours, adopted or terminated.</summary>
    public string NamePrefix { get; set; } = "actors-";

    /// <summary>Lambda allows one launch per 10 s (some copies of its docs say 12 s).</summary>
    public double LaunchIntervalSeconds { get; set; } = 12;

    /// <summary>About one request a second for everything else.</summary>
    public double RequestIntervalSeconds { get; set; } = 1;

    /// <summary>429s tried again (after Retry-After, else this backoff, twice it, …) before giving up.</summary>
    public int RateLimitRetries { get; set; } = 5;

    /// <summary>Lambda documents no Retry-After: its 429s wait 10 s, 20 s, … (as SkyPilot does).</summary>
    public double RateLimitBackoffSeconds { get; set; } = 10;

    public double TimeoutSeconds { get; set; } = 30;

    /// <summary>The key, from the setting or the file; a clear error naming both when neither has one.</summary>
    public string ResolveApiKey()
    {
        if (!string.IsNullOrWhiteSpace(ApiKey))
        {
            return ApiKey.Trim();
        }

        if (!string.IsNullOrWhiteSpace(ApiKeyFile) && File.Exists(ApiKeyFile)
            && File.ReadLines(ApiKeyFile).FirstOrDefault(l => l.Trim().Length > 0) is { } line)
        {
            return line.Trim();
        }

        throw new ProviderException("unauthorized", $"no Lambda Cloud API key: set {Section}:ApiKey or {Section}:ApiKeyFile (a file whose first line is the key)");
    }
}
