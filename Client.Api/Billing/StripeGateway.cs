using System.Net;
using Microsoft.Extensions.Options;
using Stripe;
using Stripe.Billing;

namespace Actors.Client.Api.Billing;

/// <summary>The Stripe calls billing makes, through Stripe.net: customers, Checkout sessions, billing
/// portal sessions and overage meter events. Every create carries our own idempotency key, which
/// Stripe.net keeps across its retries (connection failures, 409, 5xx, and whatever Stripe marks
/// <c>Stripe-Should-Retry</c>), so a retried create never makes two objects.</summary>
public sealed class StripeGateway
{
    private readonly StripeOptions _options;
    private readonly Lazy<StripeClient> _client;

    public StripeGateway(IOptions<StripeOptions> options)
    {
        _options = options.Value;
        _client = new Lazy<StripeClient>(() => new StripeClient(new StripeClientOptions
        {
            ApiKey = _options.SecretKey,
            ApiBase = _options.BaseUrl.TrimEnd('/'),
            HttpClient = new SystemNetHttpClient(
                new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = TimeSpan.FromSeconds(_options.TimeoutSeconds) },
                maxNetworkRetries: _options.MaxRetries,
                enableTelemetry: false),
        }));
    }

    public bool Configured => _options.Configured;

    public async Task<string> CreateCustomerAsync(string tenantId, string name, CancellationToken ct = default)
    {
        var customer = await Client.V1.Customers.CreateAsync(
            new CustomerCreateOptions { Name = name, Metadata = new() { ["tenant_id"] = tenantId } },
            Idempotent("customer-" + tenantId), ct);
        return customer.Id;
    }

    /// <summary>A hosted Checkout page: a subscription to <paramref name="priceId"/> or a one-time
    /// payment for it; <paramref name="metadata"/> comes back on the session's (and the
    /// subscription's) events.</summary>
    public async Task<(string Id, string Url)> CreateCheckoutSessionAsync(string customerId, string tenantId, bool subscription, string priceId,
        IReadOnlyDictionary<string, string> metadata, string idempotencyKey, CancellationToken ct = default)
    {
        var options = new Stripe.Checkout.SessionCreateOptions
        {
            Mode = subscription ? "subscription" : "payment",
            Customer = customerId,
            ClientReferenceId = tenantId,
            LineItems = [new Stripe.Checkout.SessionLineItemOptions { Price = priceId, Quantity = 1 }],
            SuccessUrl = _options.SuccessUrl,
            CancelUrl = _options.CancelUrl,
            Metadata = new Dictionary<string, string>(metadata),
            SubscriptionData = subscription ? new Stripe.Checkout.SessionSubscriptionDataOptions { Metadata = new Dictionary<string, string>(metadata) } : null,
        };
        var session = await Client.V1.Checkout.Sessions.CreateAsync(options, Idempotent(idempotencyKey), ct);
        return (session.Id, session.Url);
    }

    public async Task<string> CreatePortalSessionAsync(string customerId, string idempotencyKey, CancellationToken ct = default)
    {
        var session = await Client.V1.BillingPortal.Sessions.CreateAsync(
            new Stripe.BillingPortal.SessionCreateOptions { Customer = customerId, ReturnUrl = _options.PortalReturnUrl },
            Idempotent(idempotencyKey), ct);
        return session.Url;
    }

    /// <summary>Reports overage as a billing meter event; <paramref name="identifier"/> is both the
    /// event's identifier and the request's idempotency key, so Stripe counts it once.</summary>
    public async Task SendMeterEventAsync(string eventName, string identifier, IReadOnlyDictionary<string, string> payload, DateTimeOffset timestamp,
        CancellationToken ct = default)
    {
        await Client.V1.Billing.MeterEvents.CreateAsync(new MeterEventCreateOptions
        {
            EventName = eventName,
            Identifier = identifier,
            Payload = new Dictionary<string, string>(payload),
            Timestamp = timestamp.UtcDateTime,
        }, Idempotent(identifier), ct);
    }

    /// <summary>What went wrong with a Stripe call: the HTTP status Stripe answered with (0 when
    /// it could not be reached after the retries), Stripe's error type and message; null when
    /// <paramref name="e"/> is not a failure to talk to Stripe.</summary>
    public static StripeFailure? Failure(Exception e, CancellationToken ct) => e switch
    {
        StripeException s => new((int)s.HttpStatusCode, s.StripeError?.Type ?? "api_error", s.StripeError?.Message ?? s.Message),
        HttpRequestException or TaskCanceledException when !ct.IsCancellationRequested =>
            new(0, "api_connection_error", "Stripe could not be reached: " + e.Message),
        _ => null,
    };

    private StripeClient Client => Configured
        ? _client.Value
        : throw new StripeException(HttpStatusCode.ServiceUnavailable, null!, "Stripe is not configured (Billing:Stripe:SecretKey)");

    private static RequestOptions Idempotent(string key) => new() { IdempotencyKey = key };
}

/// <summary>A Stripe call that failed: <see cref="Status"/> 0 means Stripe was not reached.</summary>
public sealed record StripeFailure(int Status, string Type, string Message)
{
    /// <summary>Worth trying again later: not reached, rate limited, a conflict or Stripe's own error.</summary>
    public bool Transient => Status is 0 or 409 or 429 or >= 500;
}
