using Actors.Grains.Billing;

namespace Actors.Grains.Stores;

/// <summary>A ledger row as stored: its sequence number, the entry and when.</summary>
public sealed record LedgerRow(long Id, LedgerEntry Entry, DateTimeOffset At);
