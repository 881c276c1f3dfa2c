using Actors.Client.Api.Admin;
using Actors.Grains;
using Actors.Grains.Instances;
using Actors.Runtime.Queue;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Actors.Client.Api.Dashboard;

/// <summary>One point of the dashboard's charts.</summary>
public sealed record DashboardSample(DateTimeOffset At, int QueueDepth, int Cold, int Warm, int Hot, int Serving, decimal PerHour, decimal SpentTodayUsd);

/// <summary>The last hour of fleet samples (every 5 s) that the dashboard's charts draw, kept in
/// memory on API silos. A new silo starts with an empty chart.</summary>
public sealed class DashboardHistory
{
    public const int Kept = 720;
    private readonly Queue<DashboardSample> _samples = new();
    private readonly Lock _lock = new();

    public void Add(DashboardSample sample)
    {
        lock (_lock)
        {
            _samples.Enqueue(sample);
            while (_samples.Count > Kept)
            {
                _samples.Dequeue();
            }
        }
    }

    public IReadOnlyList<DashboardSample> Samples
    {
        get
        {
            lock (_lock)
            {
                return [.. _samples];
            }
        }
    }

    internal static DashboardSample Of(FleetView fleet)
    {
        int Count(InstanceState state) => fleet.Instances.Count(i => i.State.Equals(state.ToString(), StringComparison.OrdinalIgnoreCase));
        return new(fleet.Now, fleet.Queues.Sum(q => q.Depth), Count(InstanceState.Cold), Count(InstanceState.Warm), Count(InstanceState.Hot),
            Count(InstanceState.Serving), fleet.Instances.Sum(i => i.PerHour), fleet.Pool.SpentTodayUsd);
    }
}

/// <summary>Samples the fleet into <see cref="DashboardHistory"/> and <see cref="DashboardAlerts"/> every few seconds (API silos).</summary>
internal sealed partial class DashboardSampler(DashboardHistory history, DashboardAlerts alerts, IGrainFactory grains, InstanceDirectory directory, IJobQueue queue,
    TimeProvider time, ILogger<DashboardSampler> logger) : BackgroundService
{
    public static readonly TimeSpan Every = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Every, time);
        do
        {
            try
            {
                var fleet = await FleetApi.BuildAsync(grains, directory, queue, time);
                history.Add(DashboardHistory.Of(fleet));
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
