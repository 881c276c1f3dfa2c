namespace Actors.Grains.Billing;

/// <summary>A rate-limit bucket as stored in the tenant's state: tokens left at a time (unix ms).
/// Pure: <see cref="Take"/> returns the new bucket or says how long until a token is back.</summary>
public sealed record TokenBucket(double Tokens, long AtMs)
{
    public static TokenBucket Full(RateLimitRule rule, long nowMs) => new(rule.Jobs, nowMs);

    public TokenBucket Refilled(RateLimitRule rule, long nowMs)
    {
        var rate = rule.Jobs / (rule.PerSeconds * 1000.0);
        return new TokenBucket(Math.Min(rule.Jobs, Tokens + (Math.Max(0, nowMs - AtMs) * rate)), Math.Max(nowMs, AtMs));
    }

    public bool CanTake => Tokens >= 1 - 1e-9;

    public TokenBucket Take() => this with { Tokens = Tokens - 1 };

    /// <summary>Seconds until one token is available (0 if one is), rounded up.</summary>
    public int SecondsUntilToken(RateLimitRule rule) =>
        CanTake ? 0 : (int)Math.Ceiling((1 - Tokens) * rule.PerSeconds / rule.Jobs);

    /// <summary>Seconds until the bucket is full again, rounded up.</summary>
    public int SecondsUntilFull(RateLimitRule rule) => (int)Math.Ceiling((rule.Jobs - Tokens) * rule.PerSeconds / rule.Jobs);

    public RateLimitStatus Status(RateLimitRule rule) => new(rule.Jobs, (int)Math.Floor(Tokens + 1e-9), SecondsUntilFull(rule));
}
