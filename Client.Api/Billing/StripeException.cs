namespace Actors.Client.Api.Billing;

/// <summary>Stripe answered with an error object (<c>{"error": {"type", "code", "message"}}</c>)
/// or could not be reached after the retries.</summary>
public sealed class StripeException(int status, string type, string message) : Exception(message)
{
    /// <summary>HTTP status; 0 when Stripe could not be reached.</summary>
    public int Status { get; } = status;

    /// <summary>Stripe's error type (card_error, invalid_request_error, api_error, …).</summary>
    public string Type { get; } = type;
}
