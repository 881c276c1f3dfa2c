using System.Text.Json;
using Actors.Grains.Stores;
using Microsoft.Extensions.Logging;

namespace Actors.Client.Api.Billing;

/// <summary>Sends what billing owes Stripe (overage meter events), written by tenant grains with
/// the charge they report: each row's id is the request's Idempotency-Key and the meter event's
/// identifier, so a row sent twice after a crash is counted once by Stripe. Failures are
/// retried with backoff (30 s … 6 h) up to 10 attempts; a 4xx other than 429 fails the row.</summary>
public sealed partial class StripeOutboxDispatcher(IStripeOutbox outbox, StripeClient stripe, TimeProvider time, ILogger<StripeOutboxDispatcher> logger)
{
    public const int MaxAttempts = 10;

    private static readonly TimeSpan[] Backoff =
    [
        TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(30),
        TimeSpan.FromHours(1), TimeSpan.FromHours(2), TimeSpan.FromHours(6),
    ];

    public async Task<int> SendDueAsync(CancellationToken cancellationToken = default)
    {
        if (!stripe.Configured)
        {
            return 0; // rows wait until Stripe is configured
        }

        var due = await outbox.ClaimDueAsync(32, TimeSpan.FromMinutes(2), cancellationToken);
        foreach (var row in due)
        {
            await SendAsync(row.Id, row.Path, row.Form, row.Attempts, cancellationToken);
        }

        return due.Count;
    }

    private async Task SendAsync(string id, string path, string form, int attempts, CancellationToken ct)
    {
        string? error = null;
        var permanent = false;
        try
        {
            var fields = JsonSerializer.Deserialize<Dictionary<string, string>>(form) ?? [];
            await stripe.PostAsync(path, fields.Select(f => (f.Key, f.Value)), id, ct);
        }
        catch (StripeException e)
        {
            error = $"{e.Type} (HTTP {e.Status}): {e.Message}";
            permanent = e.Status is >= 400 and < 500 and not 429 and not 409;
        }

        var attempt = attempts + 1;
        var now = time.GetUtcNow();
        var outcome = error is null ? "sent" : permanent || attempt >= MaxAttempts ? "failed" : "pending";
        if (error is not null)
        {
            LogFailed(logger, id, attempt, error);
        }

        var next = outcome == "pending" ? now + Backoff[Math.Min(attempt - 1, Backoff.Length - 1)] : now;
        await outbox.RecordAsync(new DeliveryOutcome(id, outcome, attempt, next, now, null, error));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stripe outbox {Id} attempt {Attempt} failed: {Error}")]
    private static partial void LogFailed(ILogger logger, string id, int attempt, string error);
}
