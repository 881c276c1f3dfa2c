using System.Text.Json;
using Actors.Storage.Sql;
using Dapper;
using Microsoft.Extensions.Logging;

namespace Actors.Client.Api.Billing;

/// <summary>Sends what billing owes Stripe (overage meter events), written by tenant grains with
/// the charge they report: each row's id is the request's Idempotency-Key and the meter event's
/// identifier, so a row sent twice after a crash is counted once by Stripe. Failures are
/// retried with backoff (30 s … 6 h) up to 10 attempts; a 4xx other than 429 fails the row.</summary>
public sealed partial class StripeOutboxDispatcher(SqlStore store, StripeClient stripe, TimeProvider time, ILogger<StripeOutboxDispatcher> logger)
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

        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var due = await store.WriteAsync(async c => (await c.QueryAsync<(string Id, string Path, string Form, int Attempts)>(
            $"""
            UPDATE stripe_outbox SET lease_until_ms = @Until
            WHERE outbox_id IN (
                SELECT outbox_id FROM stripe_outbox
                WHERE status = 'pending' AND next_attempt_ms <= @Now AND (lease_until_ms IS NULL OR lease_until_ms < @Now)
                ORDER BY next_attempt_ms LIMIT 32{store.SkipLocked})
            RETURNING outbox_id, path, form, attempts
            """, new { Until = now + 120_000, Now = now })).ToList(), cancellationToken);
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

        await store.WriteAsync(c => c.ExecuteAsync(
            """
            UPDATE stripe_outbox SET status = @Outcome, attempts = @Attempt, next_attempt_ms = @Next, last_error = @Error,
                sent_ms = CASE WHEN @Outcome = 'sent' THEN @Now ELSE NULL END, lease_until_ms = NULL
            WHERE outbox_id = @Id
            """, new
            {
                Outcome = outcome, Attempt = attempt, Error = error, Id = id, Now = now.ToUnixTimeMilliseconds(),
                Next = (outcome == "pending" ? now + Backoff[Math.Min(attempt - 1, Backoff.Length - 1)] : now).ToUnixTimeMilliseconds(),
            }), CancellationToken.None);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stripe outbox {Id} attempt {Attempt} failed: {Error}")]
    private static partial void LogFailed(ILogger logger, string id, int attempt, string error);
}
