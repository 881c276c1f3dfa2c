using System.Security.Cryptography;
using System.Text;

namespace Actors.Client.Api.Webhooks;

/// <summary>Standard Webhooks signatures: <c>webhook-signature: v1,base64(HMAC-SHA256(key,
/// "{webhook-id}.{webhook-timestamp}.{body}"))</c>, where the key is the base64 part of the
/// tenant's <c>whsec_…</c> secret.</summary>
public static class WebhookSigner
{
    public static string Sign(string secret, string messageId, long timestampSeconds, string body)
    {
        var key = Convert.FromBase64String(secret.StartsWith("whsec_", StringComparison.Ordinal) ? secret[6..] : secret);
        var signed = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{messageId}.{timestampSeconds}.{body}"));
        return "v1," + Convert.ToBase64String(signed);
    }

    /// <summary>A receiver's check: one of the space-separated signatures matches, in constant time.</summary>
    public static bool Verify(string secret, string messageId, long timestampSeconds, string body, string signatureHeader)
    {
        var expected = Encoding.ASCII.GetBytes(Sign(secret, messageId, timestampSeconds, body));
        return signatureHeader.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Any(s => CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(s), expected));
    }
}
