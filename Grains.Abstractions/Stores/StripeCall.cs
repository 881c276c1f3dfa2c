namespace Actors.Grains.Stores;

/// <summary>A request billing owes Stripe (an overage meter event): <see cref="Id"/> is its
/// Idempotency-Key; <see cref="Form"/> the form fields as a JSON object of strings.</summary>
public sealed record StripeCall(string Id, string TenantId, string Path, string Form, string Status, int Attempts, string? LastError);
