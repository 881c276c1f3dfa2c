namespace Actors.Fleet.Providers.Cloud;

/// <summary>What every cloud's section ("Providers:RunPod", "Providers:Vast", "Providers:Lambda")
/// has: where its API is, the key — from <see cref="ApiKey"/> or, better, <see cref="ApiKeyFile"/>
/// (a secrets file: its first line), never logged, shown by an endpoint or kept in an error — the
/// name prefix that marks this cluster's machines, and how it is paced.</summary>
public abstract class CloudApiOptions
{
    /// <summary>Configured: this silo rents from the cloud (a key is required then).</summary>
    public bool Enabled { get; set; }

    public abstract string BaseUrl { get; set; }

    public string? ApiKey { get; set; }

    public string? ApiKeyFile { get; set; }

    /// <summary>Every machine we rent is named with this prefix; only such machines are ever listed
    /// as ours, adopted, stopped or terminated.</summary>
    public string NamePrefix { get; set; } = "actors-";

    /// <summary>The least time between any two requests.</summary>
    public double RequestIntervalSeconds { get; set; } = 1;

    /// <summary>429s tried again (after Retry-After, else this back-off, twice it, …) before giving up.</summary>
    public int RateLimitRetries { get; set; } = 5;

    public double RateLimitBackoffSeconds { get; set; } = 2;

    public double TimeoutSeconds { get; set; } = 30;

    /// <summary>Rent on demand from this cloud (provider "{cloud}").</summary>
    public bool OnDemand { get; set; } = true;

    /// <summary>Rent spot too, where the cloud sells it (provider "{cloud}-spot").</summary>
    public bool Spot { get; set; }

    /// <summary>Regions, data centers or country codes to rent in; none: any.</summary>
    public List<string> Regions { get; set; } = [];

    /// <summary>Never rent (or bid) above this $/h.</summary>
    public decimal? MaxPerHour { get; set; }

    /// <summary>A spot bid is the minimum bid plus this fraction.</summary>
    public decimal BidMargin { get; set; } = 0.1m;

    /// <summary>A rented machine whose silo has not joined after twice this plus 30 s is released
    /// (a failed rent); default: the cloud's typical time to ready.</summary>
    public double? ReadySeconds { get; set; }

    /// <summary>A joined machine whose silo is silent this long is lost (replaced).</summary>
    public double LostAfterSeconds { get; set; } = 10;

    /// <summary>The provider settings for on-demand or spot rents from this cloud.</summary>
    public CloudProviderOptions Provider(bool spot, string image, IReadOnlyDictionary<string, string> environment) => new()
    {
        Spot = spot, Regions = Regions, MaxPerHour = MaxPerHour, BidMargin = BidMargin, ReadySeconds = ReadySeconds,
        LostAfterSeconds = LostAfterSeconds, Image = image, Environment = environment,
    };

    /// <summary>The configuration section, for messages.</summary>
    protected abstract string Section { get; }

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

        throw new ProviderException("unauthorized", $"no API key: set {Section}:ApiKey or {Section}:ApiKeyFile (a file whose first line is the key)");
    }

    /// <summary>A name we may launch under: the prefix, and at most <paramref name="maxLength"/> characters.</summary>
    public void EnsureOurs(string name, int maxLength)
    {
        if (!name.StartsWith(NamePrefix, StringComparison.Ordinal) || name.Length > maxLength)
        {
            throw new ProviderException("invalid_name", $"a machine we rent is named '{NamePrefix}…' in at most {maxLength} characters; got '{name}'");
        }
    }

    /// <summary>"not_ours" for a machine whose name lacks the prefix: it is not this cluster's and is left alone.</summary>
    public void EnsureOurs(CloudMachine machine)
    {
        if (!machine.Name.StartsWith(NamePrefix, StringComparison.Ordinal))
        {
            throw new ProviderException("not_ours", $"machine {machine.Id} is named '{machine.Name}', not '{NamePrefix}…': it is not this cluster's and is left alone");
        }
    }

    public CloudPacing Pacing(IReadOnlyDictionary<string, TimeSpan>? perEndpoint = null) =>
        new(TimeSpan.FromSeconds(RequestIntervalSeconds), perEndpoint ?? new Dictionary<string, TimeSpan>(), RateLimitRetries, TimeSpan.FromSeconds(RateLimitBackoffSeconds));
}
