using System.Globalization;
using Actors.Grains.Billing;

namespace Actors.Client.Api.Jobs;

/// <summary>The RateLimit-Limit / -Remaining / -Reset headers (IETF httpapi rate-limit draft).</summary>
internal static class RateLimitHeaders
{
    public static IEnumerable<(string Name, string Value)> Of(RateLimitStatus rate)
    {
        yield return ("RateLimit-Limit", rate.Limit.ToString(CultureInfo.InvariantCulture));
        yield return ("RateLimit-Remaining", rate.Remaining.ToString(CultureInfo.InvariantCulture));
        yield return ("RateLimit-Reset", rate.ResetSeconds.ToString(CultureInfo.InvariantCulture));
    }
}
