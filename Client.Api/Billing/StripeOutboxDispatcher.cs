using System.Globalization;
using System.Text.Json;
using Actors.Grains.Stores;
using Microsoft.Extensions.Logging;

namespace Actors.Client.Api.Billing;

/// <summary>Sends what billing owes Stripe (overage meter events), written by tenant grains with
/// the charge they report: each row's id is the request's idempotency key and the meter event's
/// identifier, so a row sent twice after a crash is counted once by Stripe. Failures Stripe.net
/// did not retry away are retried here with backoff (30 s … 6 h) up to 10 attempts; a 4xx other
/// than 409 and 429 fails the row.</summary>
public sealed partial class StripeOutboxDispatcher(IStripeOutbox outbox, StripeGateway stripe, TimeProvider time, ILogger<StripeOutboxDispatcher> logger)
{
    public const int MaxAttempts = 10;

    /// <summary>The one kind of row billing writes (see TenantBilling.Settle).</summary>
    public const string MeterEventsPath = "/v1/billing/meter_events";

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
            if (path != MeterEventsPath || !fields.TryGetValue("event_name", out var name) || !fields.TryGetValue("timestamp", out var at) ||
                !long.TryParse(at, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
            {
                throw new FormatException($"not a meter event row ({path})");
            }

            var payload = fields.Where(f => f.Key.StartsWith("payload[", StringComparison.Ordinal) && f.Key.EndsWith(']'))
                .ToDictionary(f => f.Key["payload[".Length..^1], f => f.Value);
            await stripe.SendMeterEventAsync(name, id, payload, DateTimeOffset.FromUnixTimeSeconds(seconds), ct);
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
            error = "unsendable row: " + e.Message;
            permanent = true;
        }
        catch (Exception e) when (StripeGateway.Failure(e, ct) is { } failure)
        {
            error = $"{failure.Type} (HTTP {failure.Status}): {failure.Message}";
            permanent = !failure.Transient;
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
