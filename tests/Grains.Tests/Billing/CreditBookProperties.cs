using Actors.Grains.Billing;
using FsCheck;
using FsCheck.Fluent;

namespace Actors.Grains.Tests.Billing;

/// <summary>The credit book against a plain model, over random sequences of reserve, settle
/// (full price or a cache price), refund, grant, revoke, reservation expiry and new periods.</summary>
public sealed class CreditBookProperties
{
    // op: 0 reserve, 1 settle full, 2 settle cheaper, 3 refund, 4 grant, 5 revoke, 6 expire (release), 7 new period
    private static readonly Gen<(int Op, int Job, int Amount)> Step =
        from op in Gen.Choose(0, 7)
        from job in Gen.Choose(0, 5)
        from amount in Gen.Choose(1, 30)
        select (op, job, amount);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TheLedgerAlwaysSumsToTheBookAndMatchesTheModel(bool overage)
    {
        Prop.ForAll(Step.ArrayOf().ToArbitrary(), steps => Holds(steps, overage)).QuickCheckThrowOnFailure();
    }

    private static bool Holds((int Op, int Job, int Amount)[] steps, bool overageAllowed)
    {
        var book = new CreditBook();
        var entries = new List<LedgerEntry>();
        var keys = new HashSet<string>();
        var generation = 0;

        // The model: money in, money charged, what is held; nothing about where credits sit.
        long granted = 0, charged = 0, owedOverage = 0;
        var held = new Dictionary<string, (long Price, long FromCredits, long Overage)>();

        void Record(LedgerEntry e)
        {
            entries.Add(e);
            if (!keys.Add(e.Key))
            {
                throw new InvalidOperationException("a ledger key was used twice: " + e.Key);
            }
        }

        foreach (var (op, j, amount) in steps)
        {
            var job = $"job-{generation}-{j}";
            switch (op)
            {
                case 0 when !book.Open.ContainsKey(job) && !keys.Contains("reserve:" + job):
                    if (book.Reserve(job, amount, overageAllowed, 0, "m") is { } r)
                    {
                        Record(r.Entry);
                        book = r.Book;
                        held[job] = (amount, -(r.Entry.Included + r.Entry.Purchased), r.Entry.Overage);
                    }
                    else if (overageAllowed || book.Balance >= amount)
                    {
                        return false; // refused although it fits, or although overage is on
                    }

                    break;
                case 1 or 2 when book.Open.ContainsKey(job):
                {
                    var price = held[job].Price;
                    var charge = op == 1 ? price : price / 2;
                    var (b, e, chargedOverage) = book.Settle(job, charge);
                    Record(e);
                    book = b;
                    // charge comes from credits first; overage only for what credits didn't cover
                    var fromCredits = Math.Min(charge, held[job].FromCredits);
                    if (chargedOverage != charge - fromCredits)
                    {
                        return false;
                    }

                    charged += fromCredits;
                    owedOverage += chargedOverage;
                    held.Remove(job);
                    break;
                }

                case 3 or 6 when book.Open.ContainsKey(job):
                {
                    var (b, e) = book.Release(job, op == 3 ? "refund" : "expired");
                    Record(e);
                    book = b;
                    held.Remove(job);
                    break;
                }

                case 4:
                {
                    var (b, e) = book.Grant($"grant:{entries.Count}", "grant", amount, null);
                    Record(e);
                    book = b;
                    granted += amount;
                    break;
                }

                case 5 when book.Balance >= amount:
                {
                    var (b, e) = book.Grant($"revoke:{entries.Count}", "revoke", -amount, null);
                    Record(e);
                    book = b;
                    granted -= amount;
                    break;
                }

                case 5:
                    try
                    {
                        book.Grant("revoke:too-much", "revoke", -amount, null);
                        return false; // taking more than the balance must throw
                    }
                    catch (InvalidOperationException)
                    {
                    }

                    break;
                case 7:
                {
                    var (b, e) = book.SetIncluded($"period:{entries.Count}", amount, null);
                    Record(e);
                    granted += e.Included; // lapsed included credits leave, the new ones arrive
                    book = b;
                    generation++;
                    break;
                }
            }

            var sums = (Included: entries.Sum(e => e.Included), Purchased: entries.Sum(e => e.Purchased), Overage: entries.Sum(e => e.Overage));
            var heldCredits = held.Values.Sum(h => h.FromCredits);
            var heldOverage = held.Values.Sum(h => h.Overage);
            if (sums != (book.Included, book.Purchased, book.Overage) // the ledger is the book
                || book.Balance != granted - charged - heldCredits // the model's balance
                || book.Overage != owedOverage + heldOverage
                || book.Included < 0 || book.Purchased < 0 // never negative…
                || (!overageAllowed && book.Overage != 0) // …and no overage unless allowed
                || book.Open.Count != held.Count)
            {
                return false;
            }
        }

        return true;
    }
}
