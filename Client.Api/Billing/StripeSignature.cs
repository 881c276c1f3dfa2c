using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Actors.Client.Api.Billing;

/// <summary>Checks a <c>Stripe-Signature</c> header (<c>t=…,v1=…[,v1=…][,v0=…]</c>): some v1 must
/// equal HMAC-SHA256 over <c>"{t}.{raw body}"</c> keyed with one of the endpoint secrets (the whole
/// "whsec_…" string, as Stripe uses it), compared in constant time, and t must be within the
/// tolerance of now. Nothing in the body is looked at before this passes.</summary>
public static class StripeSignature
{
    public enum Result
    {
        Valid,
        Missing,
        Malformed,
        Stale,
        Mismatch,
    }

    public static Result Verify(string? header, ReadOnlySpan<byte> payload, IReadOnlyList<string> secrets, DateTimeOffset now, TimeSpan tolerance)
    {
        if (string.IsNullOrWhiteSpace(header))
        {
            return Result.Missing;
        }

        long? timestamp = null;
        var signatures = new List<byte[]>();
        foreach (var part in header.Split(','))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                return Result.Malformed;
            }

            var (key, value) = (part[..eq].Trim(), part[(eq + 1)..].Trim());
            if (key == "t")
            {
                if (!long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var t))
                {
                    return Result.Malformed;
                }

                timestamp = t;
            }
            else if (key == "v1")
            {
                if (value.Length != 64 || !value.All(Uri.IsHexDigit))
                {
                    continue; // not a SHA-256 signature: it can match nothing
                }

                signatures.Add(Convert.FromHexString(value));
            }
        }

        if (timestamp is not { } ts || signatures.Count == 0)
        {
            return Result.Malformed;
        }

        if (Math.Abs(now.ToUnixTimeSeconds() - ts) > tolerance.TotalSeconds)
        {
            return Result.Stale;
        }

        var prefix = Encoding.UTF8.GetBytes(ts.ToString(CultureInfo.InvariantCulture) + ".");
        var signed = new byte[prefix.Length + payload.Length];
        prefix.CopyTo(signed, 0);
        payload.CopyTo(signed.AsSpan(prefix.Length));
        foreach (var secret in secrets)
        {
            var expected = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signed);
            if (signatures.Any(s => CryptographicOperations.FixedTimeEquals(s, expected)))
            {
                return Result.Valid;
            }
        }

        return Result.Mismatch;
    }
}
