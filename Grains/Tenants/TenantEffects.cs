using Actors.Grains.Billing;
using Actors.Storage.Billing;

namespace Actors.Grains.Tenants;

/// <summary>What a tenant's decision asks the grain to do once its new state is stored: ledger
/// entries and Stripe rows for the outbox, credits charged (a metric), and its reminders.</summary>
public sealed record TenantEffects
{
    public static readonly TenantEffects None = new();

    public IReadOnlyList<LedgerEntry> Ledger { get; init; } = [];

    /// <summary>Overage meter events for Stripe (each keyed by its job, so sent once).</summary>
    public IReadOnlyList<MeterLine> Meters { get; init; } = [];

    /// <summary>Stripe events applied, with what they did.</summary>
    public IReadOnlyList<StripeEventLine> StripeEvents { get; init; } = [];

    /// <summary>Stripe customers linked to this tenant.</summary>
    public IReadOnlyList<string> Customers { get; init; } = [];

    /// <summary>Credits charged on settlement, by plan and model.</summary>
    public IReadOnlyList<CreditCharge> Charges { get; init; } = [];

    /// <summary>Open reservations need the reservations reminder (it was not registered).</summary>
    public bool WatchReservations { get; init; }

    /// <summary>No reservation is open: the reservations reminder may go.</summary>
    public bool StopWatchingReservations { get; init; }

    /// <summary>The subscription became past due: the dunning check is due at this time (unix ms).</summary>
    public long? DunningDueMs { get; init; }

    public TenantEffects Plus(TenantEffects more) => new()
    {
        Ledger = [.. Ledger, .. more.Ledger],
        Meters = [.. Meters, .. more.Meters],
        StripeEvents = [.. StripeEvents, .. more.StripeEvents],
        Customers = [.. Customers, .. more.Customers],
        Charges = [.. Charges, .. more.Charges],
        WatchReservations = WatchReservations || more.WatchReservations,
        StopWatchingReservations = more.StopWatchingReservations || (StopWatchingReservations && !more.WatchReservations),
        DunningDueMs = more.DunningDueMs ?? DunningDueMs,
    };

    /// <summary>The rows these effects owe the shared tables, stamped <paramref name="nowMs"/>.</summary>
    public TenantOutbox ToOutbox(long nowMs) => new()
    {
        Ledger = [.. Ledger.Select(e => new LedgerLine(e, nowMs))],
        Events = [.. StripeEvents],
        Customers = [.. Customers],
        Meters = [.. Meters],
    };
}
