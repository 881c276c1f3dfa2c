namespace Actors.Grains.Billing;

/// <summary>A token bucket: up to <see cref="Jobs"/> at once, refilled at Jobs per <see cref="PerSeconds"/>.</summary>
[GenerateSerializer(GenerateFieldIds = GenerateFieldIds.PublicProperties), Immutable]
public sealed record RateLimitRule
{
    [Id(3429262358U)]
    public int Jobs { get; init; } = 10;

    [Id(2588699154U)]
    public double PerSeconds { get; init; } = 60;
}
