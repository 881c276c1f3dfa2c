using System.Security.Cryptography;
using System.Text;

namespace Actors.Grains.Jobs;

/// <summary>What a client asked for: whose, which model (and version), the input (by its
/// SHA-256: a blob, or the bytes themselves when small) and parameters, and where to call back.</summary>
[GenerateSerializer(GenerateFieldIds = GenerateFieldIds.PublicProperties), Immutable]
public sealed record JobRequest
{
    [Id(480056492U)]
    public required string TenantId { get; init; }

    [Id(1873456958U)]
    public required string Model { get; init; }

    [Id(3080715031U)]
    public required string ModelVersion { get; init; }

    /// <summary>0 = Free … 3 = Enterprise: the queue priority.</summary>
    [Id(694704620U)]
    public int Tier { get; init; }

    /// <summary>SHA-256 (hex) of the input blob; null for a model that takes no input (diffusion).</summary>
    [Id(196204913U)]
    public string? InputRef { get; init; }

    [Id(1130064081U)]
    public string InputContentType { get; init; } = "";

    /// <summary>An input of at most <see cref="InlineBytes"/> travels in the job itself (base64),
    /// not as a blob: no object, no catalogue rows, no read at run time. It is dropped when the
    /// job ends (nothing reads an input after its run), so it never outlives the plan's input
    /// retention either.</summary>
    [Id(2623662444U)]
    public string? InputInline { get; init; }

    /// <summary>The largest input or JSON output kept inline. Below it a blob costs more than its
    /// bytes: an object (a 4 KB file-system block or an S3 request) and two catalogue rows
    /// (three statements to write, one to read); above it the job's row would outgrow
    /// PostgreSQL's 2 KB in-line limit (TOAST) and every state write would rewrite the payload.</summary>
    public const int InlineBytes = 2048;

    [Id(2490555161U)]
    public JobParameters Parameters { get; init; } = new();

    [Id(2721370922U)]
    public string? IdempotencyKey { get; init; }

    [Id(2994102534U)]
    public string? WebhookUrl { get; init; }

    [Id(1954000308U)]
    public int MaxAttempts { get; init; } = 3;

    /// <summary>Admitted by the tenant with credits reserved: its end settles or refunds them.</summary>
    [Id(3735323367U)]
    public bool Billed { get; init; }

    /// <summary>The plan marks this job's outputs for a watermark (Free).</summary>
    [Id(3896122364U)]
    public bool Watermark { get; init; }

    /// <summary>The plan's queue-wait limit (Free: 5 min); past it a job is expired, not run.</summary>
    [Id(2411689540U)]
    public int? MaxWaitSeconds { get; init; }

    /// <summary>How long the plan keeps this job's input, output and cached result.</summary>
    [Id(438155144U)]
    public DataRetention Retention { get; init; } = new();

    /// <summary>The model's manifest lets any tenant's result answer this job (<c>cache.scope:
    /// shared</c>, for public inputs); otherwise only this tenant's results do.</summary>
    [Id(213838495U)]
    public bool SharedCache { get; init; }

    /// <summary>Model + version + parameters + input hash, and the tenant unless the model shares
    /// its cache: equal requests of one tenant have equal keys, and another tenant's request for
    /// the same bytes never finds them (its key differs), so a hit says nothing across tenants.</summary>
    /// <summary>The same request, whether or not its inline input is still there (a job drops it
    /// when it ends; a repeated submission carries it).</summary>
    public bool SameAs(JobRequest? other) =>
        other is not null && (this == other || this with { InputInline = null } == other with { InputInline = null });

    public string CacheKey
    {
        get
        {
            var scope = SharedCache ? "shared" : "tenant:" + TenantId;
            var text = $"{Model}\n{ModelVersion}\n{Parameters.Canonical()}\n{InputContentType}\n{InputRef}\n{scope}";
            return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
        }
    }
}
