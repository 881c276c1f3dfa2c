namespace Actors.Inference.Models;

/// <summary>The manifest's <c>cache</c>: whose results may answer whose jobs. <c>tenant</c> (the
/// default): only the same tenant's, so submitting another tenant's bytes tells nothing about
/// them (a CT scan or X-ray "seen here"). <c>shared</c>: any tenant's, for models whose inputs
/// are public (seed 002's public reels): a hit on another tenant's result is then answered, and
/// timed, like a hit on one's own (<c>cacheHit: true</c>, no GPU).</summary>
public sealed record ResultCaching
{
    public const string TenantScope = "tenant";
    public const string SharedScope = "shared";

    public string Scope { get; init; } = TenantScope;

    public bool Shared => Scope == SharedScope;
}
