using System.Text.Json;
using Actors.Client.Api.Admin;
using Actors.Client.Api.Auth;
using Actors.Grains;
using Actors.Grains.Instances;
using Actors.Grains.Jobs;
using Actors.Grains.Stores;
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

/// <summary>An alert on the dashboard (<see cref="DashboardAlerts"/>): pending until its condition
/// has held <see cref="ForSeconds"/>, then firing. The Prometheus rules are what pages someone.</summary>
public sealed record DashboardAlert(string Name, string Severity, string Summary, string State, DateTimeOffset Since, double ForSeconds);

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
internal sealed class DashboardData(IGrainFactory grains, IInstanceDirectory directory, IQueueReads queue, IJobListings jobs,
    IDashboardSamples history, DashboardAlerts alerts, TimeProvider time, ICloudsView? clouds = null)
{
    public async Task<DashboardSnapshot> BuildAsync(CancellationToken ct)
    {
        var fleet = await FleetApi.BuildAsync(grains, directory, queue, time, clouds);
        var now = fleet.Now;
        var leased = await queue.LeasedPerHostAsync(ct);
        var running = fleet.Instances.ToDictionary(i => i.Id, i => i.Host is { } host ? leased.GetValueOrDefault(host) : 0);
        var perMinute = await jobs.PerMinuteAsync(now.AddMinutes(-30), ct);
        var lastMinute = await jobs.FinishedSinceAsync(now.AddMinutes(-1), ct);
        var failures = new List<DashboardFailure>();
        foreach (var failed in await jobs.ListAsync(null, [JobStatus.Failed], 8, ct))
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
        var samples = await history.LastHourAsync(ct);
        if (samples.Count == 0 || now - samples[^1].At > DashboardSampler.Every)
        {
            samples = [.. samples, DashboardSampler.Of(fleet)];
        }

        return new DashboardSnapshot(now, fleet, running, lastMinute, perMinute, costs, alerts.Evaluate(fleet), failures, samples);
    }
}
