using System.Security.Cryptography;

namespace Actors.Client.Api.Jobs;

/// <summary>Job ids: "job_" + 10 characters of time (ms, Crockford base32, so ids sort by
/// creation) + 16 random ones.</summary>
internal static class JobIds
{
    private const string Alphabet = "0123456789abcdefghjkmnpqrstvwxyz";
    private static readonly System.Buffers.SearchValues<char> Valid = System.Buffers.SearchValues.Create(Alphabet);

    public static string New(TimeProvider time)
    {
        Span<char> text = stackalloc char[26];
        var ms = time.GetUtcNow().ToUnixTimeMilliseconds();
        for (var i = 9; i >= 0; i--)
        {
            text[i] = Alphabet[(int)(ms & 31)];
            ms >>= 5;
        }

        Span<byte> random = stackalloc byte[16];
        RandomNumberGenerator.Fill(random);
        for (var i = 0; i < 16; i++)
        {
            text[10 + i] = Alphabet[random[i] & 31];
        }

        return "job_" + new string(text);
    }

    public static bool LooksValid(string id) =>
        id.Length == 30 && id.StartsWith("job_", StringComparison.Ordinal) && id.AsSpan(4).IndexOfAnyExcept(Valid) < 0;
}
