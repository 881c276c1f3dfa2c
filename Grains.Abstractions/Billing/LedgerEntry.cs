namespace Actors.Grains.Billing;

/// <summary>One credit movement. Kinds: period (included credits set for a new period), grant,
/// revoke, pack, reserve, settle, release.</summary>
[GenerateSerializer(GenerateFieldIds = GenerateFieldIds.PublicProperties), Immutable]
public sealed record LedgerEntry(string Key, string Kind, long Included, long Purchased, long Overage, string? JobId, string? Reference)
{
    public long Credits => Included + Purchased;
}
