namespace Actors.Grains.Billing;

/// <summary>A bucket as the RateLimit-Limit / -Remaining / -Reset headers show it.</summary>
[GenerateSerializer(GenerateFieldIds = GenerateFieldIds.PublicProperties), Immutable]
public sealed record RateLimitStatus([Id(1342892500U)] int Limit, [Id(2277359008U)] int Remaining, [Id(2107012415U)] int ResetSeconds);
