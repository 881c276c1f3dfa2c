using Actors.Fleet.Providers.Cloud;

namespace Actors.Fleet.Providers.Lambda;

/// <summary>Section "Providers:Lambda": Lambda Cloud's public API (<c>/api/v1</c>).</summary>
public sealed class LambdaCloudOptions : CloudApiOptions
{
    public const string SectionName = "Providers:Lambda";

    /// <summary>Lambda's API root (the older host, https://cloud.lambdalabs.com/api/v1, also answers).</summary>
    public override string BaseUrl { get; set; } = "https://cloud.lambda.ai/api/v1";

    /// <summary>The SSH key every launch names (Lambda requires exactly one).</summary>
    public string SshKeyName { get; set; } = "";

    /// <summary>Lambda allows one launch per 10 s (some copies of its docs say 12 s).</summary>
    public double LaunchIntervalSeconds { get; set; } = 12;

    protected override string Section => SectionName;

    public LambdaCloudOptions() => RateLimitBackoffSeconds = 10; // no Retry-After documented: 10 s, 20 s, … (as SkyPilot does)
}
