namespace Actors.Grains.Stores;

/// <summary>What became of one attempt at an outbox row: <see cref="Status"/> is the row's next
/// state (done, pending again at <see cref="NextAttempt"/>, or failed for good).</summary>
public sealed record DeliveryOutcome(string Id, string Status, int Attempts, DateTimeOffset NextAttempt, DateTimeOffset At, int? HttpStatus, string? Error);
