using System.Globalization;
using Actors.Fleet.Planning;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Actors.Client.Api.Admin;

/// <summary>GET /admin/capacity: the capacity planner's report (the same as <c>silo plan --json</c>),
/// with <c>?p95Wait=</c> seconds and <c>?uploadInterval=</c> seconds.</summary>
internal static class CapacityApi
{
    public static void MapCapacity(this RouteGroupBuilder group) =>
        group.MapGet("/capacity", (HttpRequest request) =>
        {
            var wait = Number(request, "p95Wait", 5);
            var interval = Number(request, "uploadInterval", 30);
            if (wait is not (> 0 and <= 86400) || interval is not (> 0 and <= 86400))
            {
                return Problems.BadRequest("malformed_request", "'p95Wait' and 'uploadInterval' must be seconds in (0, 86400]");
            }

            return Results.Ok(CapacityReport.Build(new PlannerInputs { P95WaitSeconds = wait.Value, UploadIntervalSeconds = interval.Value }));
        }).WithSummary("Capacity planner: seed arithmetic and Erlang C per GPU");

    private static double? Number(HttpRequest request, string name, double fallback) =>
        request.Query.TryGetValue(name, out var raw)
            ? double.TryParse(raw.ToString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value) ? value : null
            : fallback;
}
