using Actors.Fleet.Providers;
using Actors.Grains;
using Actors.Grains.Fleet;
using Actors.Grains.Instances;
using Actors.Grains.Stores;
using Actors.Grains.Tenants;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Actors.Client.Api.Admin;

/// <summary>The fleet for operators: the pool (settings, recent decisions, alerts), every instance
/// and the queues per tier; the pool's settings (autoscale, policy, min HOT, max instances, daily
/// budget cap); and operator actions on an instance (resume, stop, release).</summary>
internal static class FleetApi
{
    private static readonly string[] Actions = ["resume", "stop", "release"];

    public static void MapFleet(this RouteGroupBuilder group)
    {
        group.MapGet("/fleet", GetAsync).WithSummary("Pool, instances and queues");
        group.MapPut("/fleet/settings", SetAsync).WithSummary("Autoscale on/off, policy, min HOT, max instances, daily budget cap");
        group.MapPost("/fleet/tick", async (IGrainFactory grains) => TypedResults.Ok(await grains.GetGrain<IPoolGrain>(IPoolGrain.Key).TickAsync()))
            .WithSummary("One autoscaler decision now");
        group.MapPost("/instances/{id}/{action}", ActAsync).WithSummary("resume, stop or release an instance");
    }

    internal static async Task<IResult> GetAsync(HttpContext context, IGrainFactory grains, IInstanceDirectory directory, IQueueReads queue, TimeProvider time) =>
        TypedResults.Ok(await BuildAsync(grains, directory, queue, time, context.RequestServices.GetService(typeof(ICloudsView)) as ICloudsView));

    internal static async Task<FleetView> BuildAsync(IGrainFactory grains, IInstanceDirectory directory, IQueueReads queue, TimeProvider time, ICloudsView? clouds = null)
    {
        var now = time.GetUtcNow();
        var pool = await grains.GetGrain<IPoolGrain>(IPoolGrain.Key).GetAsync();
        var instances = await directory.SnapshotsAsync();
        var depth = (await queue.TierStatsAsync()).ToDictionary(d => d.Tier);
        var queues = Enum.GetValues<Tier>().Select(t => depth.GetValueOrDefault((int)t) is { } d
            ? new TierQueueView(t.ToString().ToLowerInvariant(), d.Depth, Math.Round(Math.Max(0, (now - d.OldestEnqueuedAt).TotalSeconds), 1), pool.Refusing(t, now))
            : new TierQueueView(t.ToString().ToLowerInvariant(), 0, 0, pool.Refusing(t, now))).ToArray();
        return new FleetView(now, pool, [.. instances.Select(i => InstanceView.Of(i, now))], queues)
        {
            Clouds = clouds?.Clouds() ?? [],
            CloudLosses = clouds?.Lost() ?? [],
            CloudOrphansTerminated = clouds?.OrphansTerminated() ?? [],
        };
    }

    internal static async Task<IResult> SetAsync(HttpRequest request, IGrainFactory grains, InstanceProviders providers)
    {
        if (await JsonBody.ReadAsync<SettingsBody>(request) is not { } body)
        {
            return Problems.BadRequest("malformed_request",
                "send a JSON object with any of autoscale, policy, minHot, maxInstances, dailyBudgetUsd, clearBudget, gpuType, provider, offers, maxPerHourUsd, clearMaxPerHour");
        }

        var pool = grains.GetGrain<IPoolGrain>(IPoolGrain.Key);
        var current = (await pool.GetAsync()).Settings;
        if (body.DailyBudgetUsd is not null && body.ClearBudget == true)
        {
            return Problems.BadRequest("malformed_request", "send either 'dailyBudgetUsd' or 'clearBudget', not both");
        }

        var next = current with
        {
            Autoscale = body.Autoscale ?? current.Autoscale,
            Policy = body.Policy?.Trim().ToLowerInvariant() ?? current.Policy,
            MinHot = body.MinHot ?? current.MinHot,
            MaxInstances = body.MaxInstances ?? current.MaxInstances,
            DailyBudgetUsd = body.ClearBudget == true ? null : body.DailyBudgetUsd ?? current.DailyBudgetUsd,
            GpuType = body.GpuType ?? current.GpuType,
            Provider = body.Provider ?? current.Provider,
            Offers = body.Offers is { } lines ? [.. lines.Select(o => new PoolOffer(o.Provider?.Trim() ?? "", o.GpuType?.Trim() ?? "", o.MaxPerHour))] : current.Offers,
            MaxPerHourUsd = body.ClearMaxPerHour == true ? null : body.MaxPerHourUsd ?? current.MaxPerHourUsd,
        };
        if (body.MaxPerHourUsd is not null && body.ClearMaxPerHour == true)
        {
            return Problems.BadRequest("malformed_request", "send either 'maxPerHourUsd' or 'clearMaxPerHour', not both");
        }
        if (next.Problem() is { } problem)
        {
            return Problems.BadRequest("invalid_settings", problem);
        }

        if (!providers.Has(next.Provider) || next.Provider == InstanceProviders.HostProviderName)
        {
            return Problems.Unprocessable("unknown_provider", $"no provider '{next.Provider}' to rent from (there are: {string.Join(", ", providers.Names.Where(n => n != InstanceProviders.HostProviderName))})");
        }

        if (next.Offers.FirstOrDefault(o => !providers.Has(o.Provider) || o.Provider == InstanceProviders.HostProviderName) is { } unknown)
        {
            return Problems.Unprocessable("unknown_provider", $"offer {unknown}: no provider '{unknown.Provider}' to rent from (there are: {string.Join(", ", providers.Names.Where(n => n != InstanceProviders.HostProviderName))})");
        }

        var offers = providers.Get(next.Provider).PriceList;
        if (offers.All(o => o.GpuType != next.GpuType))
        {
            return Problems.Unprocessable("unknown_gpu", $"provider '{next.Provider}' has no GPU type '{next.GpuType}' (it has: {string.Join(", ", offers.Select(o => o.GpuType))})");
        }

        return TypedResults.Ok(await pool.ConfigureAsync(next));
    }

    internal static async Task<IResult> ActAsync(string id, string action, IGrainFactory grains, IInstanceDirectory directory, TimeProvider time)
    {
        if (!Actions.Contains(action))
        {
            return Problems.NotFound("unknown_action", $"an instance can be resumed, stopped or released; not '{action}'");
        }

        if (!(await directory.ListIdsAsync()).Contains(id))
        {
            return Problems.NotFound("unknown_instance", $"no instance '{id}'");
        }

        var instance = grains.GetGrain<IInstanceGrain>(id);
        var reason = "operator";
        try
        {
            var snapshot = action switch
            {
                "resume" => await instance.ResumeAsync(reason),
                "stop" => await instance.StopAsync(reason),
                _ => await instance.ReleaseAsync(reason),
            };
            return TypedResults.Accepted($"/admin/fleet", InstanceView.Of(snapshot, time.GetUtcNow()));
        }
        catch (InvalidTransitionException e)
        {
            return Problems.Conflict("invalid_transition", e.Message);
        }
        catch (ProviderException e)
        {
            return e.Code switch
            {
                "unavailable" => Problems.Of(StatusCodes.Status503ServiceUnavailable, "provider_unavailable", e.Message),
                "failed" or "timeout" => Problems.Of(StatusCodes.Status502BadGateway, "provider_failed", e.Message),
                _ => Problems.Conflict("provider_refused", e.Message),
            };
        }
        catch (HttpRequestException e)
        {
            return Problems.Of(StatusCodes.Status502BadGateway, "provider_failed", $"the GPU host did not answer: {e.Message}");
        }
    }
}

internal sealed record SettingsBody(bool? Autoscale, string? Policy, int? MinHot, int? MaxInstances, decimal? DailyBudgetUsd, bool? ClearBudget, string? GpuType, string? Provider,
    OfferBody[]? Offers = null, decimal? MaxPerHourUsd = null, bool? ClearMaxPerHour = null);

/// <summary>One line of the pool's ordered offers (an empty list: rent from provider/gpuType only).</summary>
internal sealed record OfferBody(string? Provider, string? GpuType, decimal? MaxPerHour);

internal sealed record TierQueueView(string Tier, int Depth, double OldestWaitSeconds, bool Refusing);

internal sealed record FleetView(DateTimeOffset Now, PoolView Pool, InstanceView[] Instances, TierQueueView[] Queues)
{
    /// <summary>The GPU clouds rented from: capabilities, offers, last reconciliation.</summary>
    public IReadOnlyList<CloudView> Clouds { get; init; } = [];

    /// <summary>Machines found lost lately (preempted, stopped by the cloud, silent).</summary>
    public IReadOnlyList<CloudLoss> CloudLosses { get; init; } = [];

    /// <summary>Orphans of ours that reconciliation terminated lately.</summary>
    public IReadOnlyList<CloudOrphan> CloudOrphansTerminated { get; init; } = [];
}

internal sealed record InstanceView(string Id, string GpuType, string State, DateTimeOffset Since, double SecondsInState, string Health, string? HealthReason,
    string? Host, IReadOnlyList<string> Models, decimal AccruedUsd, decimal PerHour, string? Provider, PendingOperation? Pending, string? LastError,
    IReadOnlyDictionary<string, double> MeasuredSeconds, double? Utilization)
{
    public static InstanceView Of(InstanceSnapshot i, DateTimeOffset now) =>
        new(i.InstanceId, i.GpuType, i.State.ToString().ToUpperInvariant(), i.Since, Math.Round(Math.Max(0, (now - i.Since).TotalSeconds), 1),
            i.Health.ToString().ToLowerInvariant(), i.HealthReason, i.HostSiloId, i.Models, i.AccruedUsd, i.Rates.For(i.State), i.Provider, i.Pending,
            i.LastError, i.MeasuredSeconds, ServingShare(i));

    /// <summary>Share of its running time (HOT + SERVING) the instance spent serving jobs.</summary>
    private static double? ServingShare(InstanceSnapshot i)
    {
        var serving = i.TimeInState.GetValueOrDefault(InstanceState.Serving).TotalSeconds;
        var running = serving + i.TimeInState.GetValueOrDefault(InstanceState.Hot).TotalSeconds;
        return running > 0 ? Math.Round(serving / running, 4) : null;
    }
}
