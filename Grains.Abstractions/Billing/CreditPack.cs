namespace Actors.Grains.Billing;

/// <summary>A one-time purchase of credits (section <c>Billing:Packs:{id}</c>).</summary>
[GenerateSerializer(GenerateFieldIds = GenerateFieldIds.PublicProperties), Immutable]
public sealed record CreditPack
{
    [Id(3787367797U)]
    public string Id { get; set; } = "";

    [Id(4224665163U)]
    public long Credits { get; init; }

    [Id(2159691004U)]
    public decimal PriceUsd { get; init; }

    [Id(821390189U)]
    public string? StripePriceId { get; init; }
}
