namespace Actors.Grains.Stores;

/// <summary>A tenant's ledger summed: it must equal the tenant's balances.</summary>
public sealed record LedgerSums(long Included, long Purchased, long Overage, long Rows);
