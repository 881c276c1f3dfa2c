namespace Actors.Client.Api.Webhooks;

/// <summary>Where webhooks may go (section <c>Webhooks</c>).</summary>
public sealed class WebhookOptions
{
    public const string Section = "Webhooks";

    /// <summary>Receivers allowed although their address is internal (on-premises receivers):
    /// host names or IP addresses, as written in the URL or as resolved. Empty: only public addresses.</summary>
    public List<string> AllowedHosts { get; set; } = [];
}
