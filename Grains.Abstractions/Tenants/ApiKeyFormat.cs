using System.Security.Cryptography;

namespace Actors.Grains.Tenants;

/// <summary>Keys look like <c>ak_{keyId}_{secret}</c>: the id finds the tenant, the secret
/// (32 random bytes) is stored as SHA-256 — a slow hash adds nothing for keys this random.</summary>
public static class ApiKeyFormat
{
    public static IssuedApiKey NewKey()
    {
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        var secret = Base64Url(RandomNumberGenerator.GetBytes(32));
        return new IssuedApiKey(id, $"ak_{id}_{secret}");
    }

    /// <summary>The key id of a well-formed key, else null.</summary>
    public static string? KeyIdOf(string? key)
    {
        if (key is null || !key.StartsWith("ak_", StringComparison.Ordinal) || key.Length > 200)
        {
            return null;
        }

        var end = key.IndexOf('_', 3);
        return end is 19 && key.Length > end + 1 ? key[3..end] : null;
    }

    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key)));

    /// <summary>Constant-time comparison of a presented key with a stored hash.</summary>
    public static bool Matches(string key, string storedHash) =>
        CryptographicOperations.FixedTimeEquals(
            System.Text.Encoding.ASCII.GetBytes(Hash(key)), System.Text.Encoding.ASCII.GetBytes(storedHash));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
