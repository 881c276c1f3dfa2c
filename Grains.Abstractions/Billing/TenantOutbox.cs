namespace Actors.Grains.Billing;

/// <summary>Rows a tenant's change owes the shared tables (ledger entries, Stripe events seen,
/// its Stripe customer, overage meter events). They are part of the tenant's state, so they are
/// written in the same storage write as the balances they explain; right after that write the
/// grain inserts them (each keyed, inserted at most once) and forgets them. A silo that dies in
/// between leaves them in the stored state, and the next activation inserts them first.</summary>
public sealed record TenantOutbox
{
    public static readonly TenantOutbox Empty = new();

    public List<LedgerLine> Ledger { get; init; } = [];

    public List<StripeEventLine> Events { get; init; } = [];

    public List<string> Customers { get; init; } = [];

    public List<MeterLine> Meters { get; init; } = [];

    public bool IsEmpty => Ledger.Count == 0 && Events.Count == 0 && Customers.Count == 0 && Meters.Count == 0;

    public TenantOutbox Plus(TenantOutbox more) => more.IsEmpty ? this : IsEmpty ? more : new()
    {
        Ledger = [.. Ledger, .. more.Ledger],
        Events = [.. Events, .. more.Events],
        Customers = [.. Customers, .. more.Customers],
        Meters = [.. Meters, .. more.Meters],
    };

    /// <summary>What is left once <paramref name="written"/> (an earlier value of this outbox, so a
    /// prefix of each list) has been inserted.</summary>
    public TenantOutbox After(TenantOutbox written)
    {
        if (written.IsEmpty)
        {
            return this;
        }

        if (Ledger.Count < written.Ledger.Count || Events.Count < written.Events.Count || Customers.Count < written.Customers.Count || Meters.Count < written.Meters.Count)
        {
            throw new InvalidOperationException("the outbox lost rows that were not yet written");
        }

        var rest = new TenantOutbox
        {
            Ledger = Ledger[written.Ledger.Count..],
            Events = Events[written.Events.Count..],
            Customers = Customers[written.Customers.Count..],
            Meters = Meters[written.Meters.Count..],
        };
        return rest.IsEmpty ? Empty : rest;
    }

    public bool HasLedgerKey(string key) => Ledger.Exists(l => l.Entry.Key == key);

    public bool HasEvent(string eventId) => Events.Exists(e => e.EventId == eventId);
}

/// <summary>A ledger entry and when it was made (unix ms).</summary>
public sealed record LedgerLine(LedgerEntry Entry, long AtMs);

/// <summary>A Stripe event applied, and what it did.</summary>
public sealed record StripeEventLine(string EventId, string Type, long Created, long AtMs, string Outcome);

/// <summary>An overage meter event for Stripe's outbox; <see cref="Id"/> is its identifier there too.</summary>
public sealed record MeterLine(string Id, string Path, string Form, long AtMs);
