using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text;
using Actors.Grains;
using Actors.Grains.Diagnostics;
using Actors.Grains.Jobs;
using Actors.Grains.Stores;
using Actors.Grains.Tenants;
using Microsoft.Extensions.Logging;

namespace Actors.Client.Api.Webhooks;

/// <summary>Sends due webhook deliveries (the control role starts a pass every half second): signed per
/// Standard Webhooks with the tenant's secret, 2xx = delivered, anything else retried with
/// backoff (5 s, 30 s, 2 min, 10 min, 30 min, 1 h, 2 h) and failed after 8 attempts; a destination
/// refused at connection (its name resolves inside: <see cref="DestinationRefusedException"/>) or a
/// URL that no longer parses fails at once, with its reason. Every attempt's outcome is recorded on
/// the delivery row.</summary>
public sealed partial class WebhookDispatcher(IWebhookDeliveries deliveries, IGrainFactory grains, IHttpClientFactory http, TimeProvider time, ILogger<WebhookDispatcher> logger)
{
    public const int MaxAttempts = 8;

    private static readonly TimeSpan[] Backoff =
    [
        TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(10),
        TimeSpan.FromMinutes(30), TimeSpan.FromHours(1), TimeSpan.FromHours(2),
    ];

    /// <summary>At most this many deliveries to one destination (scheme, host and port) at a time.</summary>
    public const int PerDestination = 4;

    /// <summary>At most this many deliveries in flight on this silo.</summary>
    public const int InFlightLimit = 64;

    private readonly ConcurrentDictionary<string, int> _busy = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Task> _running = new(StringComparer.Ordinal);

    /// <summary>Deliveries in flight now.</summary>
    public int InFlight => _running.Count;

    /// <summary>Starts the due deliveries and returns without waiting for them: each destination
    /// gets at most <see cref="PerDestination"/> at a time, so a slow or dead receiver (10 s
    /// time-out each) delays only its own webhooks, never another tenant's nor the control loop.
    /// A delivery whose destination is busy goes back, due a little later, behind the others.</summary>
    /// <summary>How soon a delivery that failed inside the cluster (before anything was sent) is tried again.</summary>
    private static readonly TimeSpan ClusterRetry = TimeSpan.FromSeconds(3);

    public async Task<int> DeliverDueAsync(CancellationToken cancellationToken = default)
    {
        var room = InFlightLimit - _running.Count;
        if (room <= 0)
        {
            return 0;
        }

        var due = await deliveries.ClaimDueAsync(Math.Min(32, room), TimeSpan.FromMinutes(1), cancellationToken);
        var started = 0;
        foreach (var d in due)
        {
            var destination = Destination(d.Url);
            if (_running.ContainsKey(d.DeliveryId) || _busy.GetValueOrDefault(destination) >= PerDestination)
            {
                await deliveries.DeferAsync(d.DeliveryId, time.GetUtcNow().AddSeconds(2));
                continue;
            }

            _busy.AddOrUpdate(destination, 1, (_, n) => n + 1);
            _running[d.DeliveryId] = RunAsync(d, destination, cancellationToken);
            started++;
        }

        return started;
    }

    /// <summary>Waits for the deliveries in flight (tests, and a silo that stops).</summary>
    public Task DrainAsync() => Task.WhenAll(_running.Values);

    private async Task RunAsync(DueWebhook d, string destination, CancellationToken ct)
    {
        await Task.Yield(); // the caller goes on starting the others
        try
        {
            await DeliverAsync(d.DeliveryId, d.JobId, d.Url, d.Payload, d.Attempts, ct);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The cluster could not answer (the job's or tenant's silo just died, a call timed
            // out): nothing was sent, so no attempt is counted; tried again in a few seconds
            // rather than when the lease lapses. If even that fails, the lease still frees it.
            LogAttemptFailed(logger, d.DeliveryId, d.Attempts + 1, e.Message);
            try
            {
                await deliveries.DeferAsync(d.DeliveryId, time.GetUtcNow() + ClusterRetry);
            }
            catch (Exception deferral) when (deferral is not OutOfMemoryException)
            {
                LogAttemptFailed(logger, d.DeliveryId, d.Attempts + 1, deferral.Message);
            }
        }
        finally
        {
            _busy.AddOrUpdate(destination, 0, (_, n) => Math.Max(0, n - 1));
            _running.TryRemove(d.DeliveryId, out _);
        }
    }

    private static string Destination(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) ? uri.GetLeftPart(UriPartial.Authority).ToLowerInvariant() : url;

    private async Task DeliverAsync(string deliveryId, string jobId, string url, string payload, int attempts, CancellationToken ct)
    {
        int? status = null;
        string? error = null;
        var final = false;
        try
        {
            var job = await grains.GetGrain<IJobGrain>(jobId).GetAsync();
            var secret = await grains.GetGrain<ITenantGrain>(job.TenantId.Length > 0 ? job.TenantId : "-").GetWebhookSecretAsync()
                ?? throw new InvalidOperationException("the job's tenant has no webhook secret");
            var timestamp = time.GetUtcNow().ToUnixTimeSeconds();
            using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(payload, Encoding.UTF8) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            request.Headers.Add("webhook-id", deliveryId);
            request.Headers.Add("webhook-timestamp", timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
            request.Headers.Add("webhook-signature", WebhookSigner.Sign(secret, deliveryId, timestamp, payload));
            using var response = await http.CreateClient("webhooks").SendAsync(request, ct);
            status = (int)response.StatusCode;
            if (!response.IsSuccessStatusCode)
            {
                error = $"HTTP {status}";
            }
        }
        catch (Exception e) when (DestinationRefusedException.In(e) is { } refused)
        {
            (error, final) = (refused.Message, true);
        }
        catch (UriFormatException e)
        {
            (error, final) = ($"the webhook URL is not a URL: {e.Message}", true); // stored before its check was strict
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or InvalidOperationException)
        {
            error = e.Message;
        }

        var attempt = attempts + 1;
        var now = time.GetUtcNow();
        final |= attempt >= MaxAttempts;
        var outcome = error is null ? "delivered" : final ? "failed" : "pending";
        ActorsMetrics.WebhookDeliveries.Add(1, new KeyValuePair<string, object?>("result", error is null ? "delivered" : final ? "failed" : "retry"));
        var next = error is null || final ? now : now + Backoff[Math.Min(attempt - 1, Backoff.Length - 1)];
        if (error is not null)
        {
            LogAttemptFailed(logger, deliveryId, attempt, error);
        }

        await deliveries.RecordAsync(new DeliveryOutcome(deliveryId, outcome, attempt, next, now, status, error));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "webhook {DeliveryId} attempt {Attempt} failed: {Error}")]
    private static partial void LogAttemptFailed(ILogger logger, string deliveryId, int attempt, string error);
}
