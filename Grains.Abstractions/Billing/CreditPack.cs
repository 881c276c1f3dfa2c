namespace Actors.Grains.Billing;

/// <summary>A one-time purchase of credits (section <c>Billing:Packs:{id}</c>).</summary>
[GenerateSerializer(GenerateFieldIds = GenerateFieldIds.PublicProperties), Immutable]
public sealed record CreditPack
{
    public string Id { get; set; } = "";

    public long Credits { get; init; }

    public decimal PriceUsd { get; init; }

    public string? StripePriceId { get; init; }
}
