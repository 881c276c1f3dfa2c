namespace Actors.Grains.Billing;

/// <summary>Credits held for a job until it finishes: where they came from (included, purchased,
/// overage), the model's full price, and when (unix ms).</summary>
public sealed record Reservation(long Price, long Included, long Purchased, long Overage, long AtMs, string Model);
