namespace Actors.Grains.Billing;

/// <summary>A bucket as the RateLimit-Limit / -Remaining / -Reset headers show it.</summary>
[GenerateSerializer(GenerateFieldIds = GenerateFieldIds.PublicProperties), Immutable]
public sealed record RateLimitStatus(int Limit, int Remaining, int ResetSeconds);
