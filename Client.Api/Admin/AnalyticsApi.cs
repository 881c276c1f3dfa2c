using System.Globalization;
using Actors.Grains.Billing;
using Actors.Grains.Stores;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Actors.Client.Api.Admin;

/// <summary>GET /admin/analytics?days=N (1–90, default 7): jobs per day by tenant and model,
/// response times per model (total, queue wait, run), what the result cache saved, and refusals
/// per day, tenant and reason (seed 002 "Usage Analytics").</summary>
internal static class AnalyticsApi
{
    private const int MaxRowsForPercentiles = 100_000;

    public static void MapAnalytics(this RouteGroupBuilder group) =>
        group.MapGet("/analytics", GetAsync).WithSummary("Usage analytics: jobs per day, response times, cache savings, refusals");

    internal static async Task<IResult> GetAsync(HttpRequest request, IJobListings listings, BillingOptions billing, TimeProvider time, CancellationToken ct)
    {
        var days = 7;
        if (request.Query.TryGetValue("days", out var raw) && (!int.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out days) || days is < 1 or > 90))
        {
            return Problems.BadRequest("malformed_request", "'days' must be a whole number from 1 to 90");
        }

        var now = time.GetUtcNow();
        var from = new DateTimeOffset(now.UtcDateTime.Date.AddDays(1 - days), TimeSpan.Zero);
        var report = await listings.UsageSinceAsync(from, MaxRowsForPercentiles, ct);

        var times = report.FinishedJobs.GroupBy(f => f.Model).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g =>
        {
            var total = g.Select(f => f.TotalMs / 1000.0).Order().ToList();
            var wait = g.Where(f => f.WaitMs is not null).Select(f => f.WaitMs!.Value / 1000.0).Order().ToList();
            var run = g.Where(f => f.RunMs is not null).Select(f => f.RunMs!.Value).Order().ToList();
            return new ResponseTimes(g.Key, g.Count(), Round(Percentile(total, 0.5)), Round(Percentile(total, 0.95)),
                Round(Percentile(wait, 0.5)), Round(Percentile(wait, 0.95)), Round(Percentile(run, 0.5)));
        }).ToList();
        var hitsByModel = report.FinishedJobs.Where(f => f.CacheHit).GroupBy(f => f.Model).ToDictionary(g => g.Key, g => g.Count());
        var gpuSecondsSaved = hitsByModel.Sum(kv =>
            kv.Value * (report.FinishedJobs.Where(f => f.Model == kv.Key && f.RunMs is not null).Select(f => f.RunMs!.Value).DefaultIfEmpty(0).Average() / 1000));
        var hits = hitsByModel.Values.Sum();
        var cache = new CacheSavings(report.FinishedJobs.Count, hits, report.FinishedJobs.Count == 0 ? 0 : Math.Round((double)hits / report.FinishedJobs.Count, 4),
            Round(gpuSecondsSaved), hitsByModel.Sum(kv => kv.Value * billing.PriceOf(kv.Key)));
        return TypedResults.Ok(new AnalyticsReport(from, now,
            [.. report.PerDay.Select(r => new JobsPerDay(r.Date, r.TenantId, r.Model, r.Jobs, r.Succeeded, r.Failed, r.CacheHits))], times, cache,
            [.. report.Refused.Select(r => new RefusalCount(r.Date, r.TenantId, r.Reason, r.Count))]));
    }

    private static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];

    private static double Round(double v) => Math.Round(v, 3);
}

internal sealed record JobsPerDay(string Day, string TenantId, string Model, long Jobs, long Succeeded, long Failed, long CacheHits);

internal sealed record ResponseTimes(string Model, int Jobs, double P50Seconds, double P95Seconds, double P50WaitSeconds, double P95WaitSeconds, double P50RunMs);

/// <summary>Finished jobs the cache answered: the GPU time they would have taken (the model's mean
/// run time) and their credits at list price.</summary>
internal sealed record CacheSavings(int Lookups, int Hits, double HitRatio, double GpuSecondsSaved, long CreditsSaved);

internal sealed record RefusalCount(string Day, string TenantId, string Reason, long Count);

internal sealed record AnalyticsReport(DateTimeOffset From, DateTimeOffset To, IReadOnlyList<JobsPerDay> JobsPerDay, IReadOnlyList<ResponseTimes> ResponseTimes,
    CacheSavings Cache, IReadOnlyList<RefusalCount> Refusals);
