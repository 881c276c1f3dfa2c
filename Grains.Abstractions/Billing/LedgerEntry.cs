namespace Actors.Grains.Billing;

/// <summary>One credit movement. Kinds: period (included credits set for a new period), grant,
/// revoke, pack, reserve, settle, release.</summary>
[GenerateSerializer(GenerateFieldIds = GenerateFieldIds.PublicProperties), Immutable]
public sealed record LedgerEntry([Id(489095534U)] string Key, [Id(965224883U)] string Kind, [Id(1928974846U)] long Included, [Id(2633732300U)] long Purchased, [Id(3603087123U)] long Overage, [Id(3331321017U)] string? JobId, [Id(1030820561U)] string? Reference)
{
    public long Credits => Included + Purchased;
}
