using Actors.Client.Api.Admin;
using Actors.Grains.Instances;
using Actors.Grains.Stores;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Actors.Client.Api.Dashboard;

/// <summary>Samples the fleet into <see cref="IDashboardSamples"/> and <see cref="DashboardAlerts"/> every few seconds (API silos).</summary>
internal sealed partial class DashboardSampler(IDashboardSamples history, DashboardAlerts alerts, IGrainFactory grains, IInstanceDirectory directory, IQueueReads queue,
    TimeProvider time, ILogger<DashboardSampler> logger) : BackgroundService
{
    public static readonly TimeSpan Every = TimeSpan.FromSeconds(5);

    internal static DashboardSample Of(FleetView fleet)
    {
        int Count(InstanceState state) => fleet.Instances.Count(i => i.State.Equals(state.ToString(), StringComparison.OrdinalIgnoreCase));
        return new(fleet.Now, fleet.Queues.Sum(q => q.Depth), Count(InstanceState.Cold), Count(InstanceState.Warm), Count(InstanceState.Hot),
            Count(InstanceState.Serving), fleet.Instances.Sum(i => i.PerHour), fleet.Pool.SpentTodayUsd);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Every, time);
        do
        {
            try
            {
                var fleet = await FleetApi.BuildAsync(grains, directory, queue, time);
                await history.AddAsync(DashboardSampler.Of(fleet), stoppingToken);
                alerts.Evaluate(fleet); // conditions are timed while no one watches
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogSampleFailed(logger, e);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dashboard sample failed")]
    private static partial void LogSampleFailed(ILogger logger, Exception error);
}
