namespace Actors.Client.Api.Billing;

/// <summary>Talking to Stripe (section <c>Billing:Stripe</c>) through Stripe.net, whose release
/// fixes the API version (<c>Stripe.StripeConfiguration.ApiVersion</c>). Without a secret key, checkout and
/// portal answer 503; without webhook secrets, <c>/webhooks/stripe</c> does.</summary>
public sealed class StripeOptions
{
    public const string Section = "Billing:Stripe";

    public string SecretKey { get; set; } = "";

    public string BaseUrl { get; set; } = "https://api.stripe.com";

    /// <summary>Endpoint signing secrets ("whsec_…"); during a rotation, the old and the new.</summary>
    public List<string> WebhookSecrets { get; set; } = [];

    public int ToleranceSeconds { get; set; } = 300;

    public string SuccessUrl { get; set; } = "http://127.0.0.1:5080/dashboard?checkout=success";

    public string CancelUrl { get; set; } = "http://127.0.0.1:5080/dashboard?checkout=canceled";

    public string PortalReturnUrl { get; set; } = "http://127.0.0.1:5080/dashboard";

    /// <summary>Stripe.net's retries after the first try (connection failures, 409, 5xx, and what
    /// Stripe marks <c>Stripe-Should-Retry: true</c>), 0.5–5 s apart with jitter.</summary>
    public int MaxRetries { get; set; } = 3;

    public int TimeoutSeconds { get; set; } = 30;

    public bool Configured => SecretKey.Length > 0;
}
