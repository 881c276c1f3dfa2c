using System.Text.Json;
using Actors.Client.Api.Admin;
using Actors.Client.Api.Auth;
using Actors.Grains;
using Actors.Grains.Instances;
using Actors.Grains.Jobs;
using Actors.Runtime.Queue;
using Actors.Runtime.Sql;
using Dapper;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Actors.Client.Api.Dashboard;

/// <summary>What the operator dashboard shows, as one snapshot (<c>GET /admin/dashboard</c>) or a
/// live stream of them (<c>GET /admin/dashboard/stream</c>, server-sent events every 2 s).</summary>
internal static class DashboardApi
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    public static readonly TimeSpan StreamEvery = TimeSpan.FromSeconds(2);

    public static void MapDashboard(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/admin/dashboard").WithTags("admin");
        group.RequireAdminKey();
        group.MapGet("", async (DashboardData data, CancellationToken ct) => TypedResults.Ok(await data.BuildAsync(ct)))
            .WithSummary("Everything the operator dashboard shows, now");
        group.MapGet("/stream", StreamAsync).WithSummary("The dashboard's snapshot as server-sent events, every 2 s");
    }

    private static async Task StreamAsync(HttpContext context, DashboardData data, CancellationToken ct)
    {
        var response = context.Response;
        ServerSentEvents.Begin(response);
        var sequence = 0;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var snapshot = await data.BuildAsync(ct);
                await ServerSentEvents.SendAsync(response, ++sequence, "snapshot", JsonSerializer.Serialize(snapshot, Json), ct);
                await Task.Delay(StreamEvery, ct);
            }
        }
        catch (OperationCanceledException)
        {
            // the browser went away
        }
    }
}

/// <summary>An alert as the dashboard evaluates it from the current state (the Prometheus rules in
/// deploy/prometheus/alerts.yml, with their <c>for</c> windows, are what pages someone).</summary>
public sealed record DashboardAlert(string Name, string Severity, string Summary);

public sealed record DashboardFailure(string JobId, string TenantId, string Model, DateTimeOffset At, string? Reason);

public sealed record DashboardCosts(decimal SpentTodayUsd, decimal PerHour, decimal ProjectedTodayUsd, decimal ProjectedMonthUsd);

internal sealed record DashboardSnapshot(
    DateTimeOffset Now,
    FleetView Fleet,
    IReadOnlyDictionary<string, int> RunningByInstance,
    long JobsLastMinute,
    IReadOnlyList<JobsPerMinute> JobsPerMinute,
    DashboardCosts Costs,
    IReadOnlyList<DashboardAlert> Alerts,
    IReadOnlyList<DashboardFailure> Failures,
    IReadOnlyList<DashboardSample> History);

/// <summary>Builds <see cref="DashboardSnapshot"/> from the store and the grains.</summary>
internal sealed class DashboardData(IGrainFactory grains, InstanceDirectory directory, IJobQueue queue, JobIndex jobs, SqlStore store,
    DashboardHistory history, TimeProvider time)
{
    public async Task<DashboardSnapshot> BuildAsync(CancellationToken ct)
    {
        var fleet = await FleetApi.BuildAsync(grains, directory, queue, time);
        var now = fleet.Now;
        var leased = await store.ReadAsync<IReadOnlyDictionary<string, int>>(async c => (await c.QueryAsync<(string Owner, long Count)>(
            "SELECT lease_owner, count(*) FROM job_queue WHERE state = 'leased' AND lease_owner IS NOT NULL GROUP BY lease_owner"))
            .ToDictionary(r => r.Owner, r => (int)r.Count), ct);
        var running = fleet.Instances.ToDictionary(i => i.Id, i => i.Host is { } host ? leased.GetValueOrDefault(host) : 0);
        var perMinute = await jobs.PerMinuteAsync(now.AddMinutes(-30), ct);
        var lastMinute = await store.ReadAsync(c => c.ExecuteScalarAsync<long>(
            "SELECT count(*) FROM jobs WHERE updated_ms >= @From AND status IN ('Succeeded', 'Failed')", new { From = now.AddMinutes(-1).ToUnixTimeMilliseconds() }), ct);
        var failures = new List<DashboardFailure>();
        foreach (var failed in await jobs.ListAsync(null, nameof(JobStatus.Failed), 8, ct))
        {
            var job = await grains.GetGrain<IJobGrain>(failed.JobId).GetAsync();
            failures.Add(new DashboardFailure(failed.JobId, failed.TenantId, failed.Model, failed.UpdatedAt, job.Reason));
        }

        var perHour = fleet.Instances.Sum(i => i.PerHour);
        var spent = fleet.Pool.SpentTodayUsd;
        var hoursLeft = (decimal)(now.UtcDateTime.Date.AddDays(1) - now.UtcDateTime).TotalHours;
        var today = spent + (perHour * hoursLeft);
        var daysInMonth = DateTime.DaysInMonth(now.Year, now.Month);
        var costs = new DashboardCosts(Math.Round(spent, 4), perHour, Math.Round(today, 2), Math.Round(today * daysInMonth, 2));
        var samples = history.Samples;
        if (samples.Count == 0 || now - samples[^1].At > DashboardSampler.Every)
        {
            samples = [.. samples, DashboardHistory.Of(fleet)];
        }

        return new DashboardSnapshot(now, fleet, running, lastMinute, perMinute, costs, Alerts(fleet, costs, now), failures, samples);
    }

    /// <summary>The seed 003 table, on the state as it is now.</summary>
    internal static List<DashboardAlert> Alerts(FleetView fleet, DashboardCosts costs, DateTimeOffset now)
    {
        var alerts = new List<DashboardAlert>();
        var depth = fleet.Queues.Sum(q => q.Depth);
        if (depth > 30)
        {
            alerts.Add(new("QueueDepthCritical", "critical", $"{depth} jobs waiting (> 30)"));
        }
        else if (depth > 10)
        {
            alerts.Add(new("QueueDepthHigh", "warning", $"{depth} jobs waiting (> 10)"));
        }

        var pro = fleet.Queues.Where(q => q.Tier is "pro" or "enterprise").Select(q => q.OldestWaitSeconds).DefaultIfEmpty(0).Max();
        if (pro > 60)
        {
            alerts.Add(new("ProWaitCritical", "critical", $"a Pro/Enterprise job has waited {pro:0} s (> 60 s)"));
        }
        else if (pro > 30)
        {
            alerts.Add(new("ProWaitHigh", "warning", $"a Pro/Enterprise job has waited {pro:0} s (> 30 s)"));
        }

        foreach (var instance in fleet.Instances.Where(i => i.State != "COLD" || i.Pending is not null))
        {
            if (instance.Health == "down")
            {
                alerts.Add(new("InstanceDown", "critical", $"{instance.Id}: {instance.HealthReason}"));
            }
            else if (instance.Health == "degraded")
            {
                alerts.Add(new("InstanceDegraded", "warning", $"{instance.Id}: {instance.HealthReason}"));
            }
        }

        if (costs.SpentTodayUsd > 30)
        {
            alerts.Add(new("DailyCostCritical", "critical", $"${costs.SpentTodayUsd:0.00} spent today (> $30)"));
        }
        else if (costs.SpentTodayUsd > 20)
        {
            alerts.Add(new("DailyCostHigh", "warning", $"${costs.SpentTodayUsd:0.00} spent today (> $20)"));
        }

        foreach (var alert in fleet.Pool.Alerts.Where(a => now - a.At < TimeSpan.FromMinutes(10)))
        {
            alerts.Add(new(alert.Kind == "budget_cap" ? "BudgetCapReached" : "MaxInstancesReached", "warning", alert.Reason));
        }

        return alerts;
    }
}
