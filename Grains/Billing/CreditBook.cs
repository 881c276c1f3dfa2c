namespace Actors.Grains.Billing;

/// <summary>A tenant's credits as a pure value: two balances (the period's included credits,
/// which lapse; purchased and granted ones, which don't), the overage owed, and open
/// reservations. Every change returns the new book and the ledger entry that records it, so the
/// ledger's sums always equal the book (the tenant grain writes both in one transaction).
/// Credits are spent included-first, refunds go back where they came from, and neither balance
/// ever goes below zero: what the balances can't cover is overage, allowed or refused per plan.</summary>
public sealed record CreditBook
{
    public long Included { get; init; }

    public long Purchased { get; init; }

    /// <summary>Overage credits owed in all (settled and still reserved): the ledger's overage sum.</summary>
    public long Overage { get; init; }

    public Dictionary<string, Reservation> Open { get; init; } = [];

    public long Balance => Included + Purchased;

    public long ReservedCredits => Open.Values.Sum(r => r.Included + r.Purchased);

    /// <summary>Holds <paramref name="price"/> for a job; null when the balances can't cover it
    /// and overage is not allowed.</summary>
    public (CreditBook Book, LedgerEntry Entry)? Reserve(string jobId, long price, bool overageAllowed, long nowMs, string model)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(price);
        if (Open.ContainsKey(jobId))
        {
            throw new InvalidOperationException($"job {jobId} already holds a reservation");
        }

        var included = Math.Min(price, Included);
        var purchased = Math.Min(price - included, Purchased);
        var overage = price - included - purchased;
        if (overage > 0 && !overageAllowed)
        {
            return null;
        }

        var reservation = new Reservation(price, included, purchased, overage, nowMs, model);
        var book = this with
        {
            Included = Included - included,
            Purchased = Purchased - purchased,
            Overage = Overage + overage,
            Open = new Dictionary<string, Reservation>(Open) { [jobId] = reservation },
        };
        return (book, new LedgerEntry("reserve:" + jobId, "reserve", -included, -purchased, overage, jobId, model));
    }

    /// <summary>Charges <paramref name="charge"/> (≤ the price) for a finished job and gives the
    /// rest back, overage first. Returns the overage the charge finally includes.</summary>
    public (CreditBook Book, LedgerEntry Entry, long ChargedOverage) Settle(string jobId, long charge)
    {
        var r = Open[jobId];
        var refund = r.Price - Math.Clamp(charge, 0, r.Price);
        var overage = Math.Min(refund, r.Overage);
        var purchased = Math.Min(refund - overage, r.Purchased);
        var included = refund - overage - purchased;
        var book = Without(jobId) with { Included = Included + included, Purchased = Purchased + purchased, Overage = Overage - overage };
        return (book, new LedgerEntry("settle:" + jobId, "settle", included, purchased, -overage, jobId, $"charged {r.Price - refund} of {r.Price}"), r.Overage - overage);
    }

    /// <summary>Gives a job's whole reservation back (failed, canceled, expired, never appeared).</summary>
    public (CreditBook Book, LedgerEntry Entry) Release(string jobId, string reason)
    {
        var r = Open[jobId];
        var book = Without(jobId) with { Included = Included + r.Included, Purchased = Purchased + r.Purchased, Overage = Overage - r.Overage };
        return (book, new LedgerEntry("release:" + jobId, "release", r.Included, r.Purchased, -r.Overage, jobId, reason));
    }

    /// <summary>Adds purchased credits (a pack, an admin grant) or, negative, takes them back
    /// (purchased first, then included); taking more than the balance throws.</summary>
    public (CreditBook Book, LedgerEntry Entry) Grant(string key, string kind, long credits, string? reference)
    {
        if (credits >= 0)
        {
            return (this with { Purchased = Purchased + credits }, new LedgerEntry(key, kind, 0, credits, 0, null, reference));
        }

        if (-credits > Balance)
        {
            throw new InvalidOperationException($"cannot take {-credits} credits: the balance is {Balance}");
        }

        var purchased = Math.Min(-credits, Purchased);
        var included = -credits - purchased;
        return (this with { Purchased = Purchased - purchased, Included = Included - included }, new LedgerEntry(key, kind, -included, -purchased, 0, null, reference));
    }

    /// <summary>Sets the included credits for a new period (what was left of the old one lapses).</summary>
    public (CreditBook Book, LedgerEntry Entry) SetIncluded(string key, long included, string? reference) =>
        (this with { Included = included }, new LedgerEntry(key, "period", included - Included, 0, 0, null, reference));

    private CreditBook Without(string jobId)
    {
        var open = new Dictionary<string, Reservation>(Open);
        open.Remove(jobId);
        return this with { Open = open };
    }
}
