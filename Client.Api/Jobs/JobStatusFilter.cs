using Actors.Grains.Jobs;
using Microsoft.AspNetCore.Http;

namespace Actors.Client.Api.Jobs;

/// <summary>The <c>status</c> filter of job listings: one or more of queued, running, succeeded,
/// failed, canceled, expired, comma-separated, meaning "any of"; anything else is a 422 that names it.</summary>
internal static class JobStatusFilter
{
    private static readonly JobStatus[] Listed = [.. Enum.GetValues<JobStatus>().Where(s => s != JobStatus.New)];

    public static IResult? Parse(string? text, out IReadOnlyList<JobStatus>? statuses)
    {
        statuses = null;
        if (text is null)
        {
            return null;
        }

        var parsed = new List<JobStatus>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            var match = Listed.Where(s => s.ToString().Equals(part, StringComparison.OrdinalIgnoreCase)).ToList();
            if (match.Count == 0)
            {
                return Problems.Unprocessable("bad_parameter",
                    $"status may be any of {string.Join(", ", Listed.Select(s => s.ToString().ToLowerInvariant()))}, comma-separated; '{part}' is not one");
            }

            parsed.Add(match[0]);
        }

        statuses = [.. parsed.Distinct()];
        return null;
    }
}
