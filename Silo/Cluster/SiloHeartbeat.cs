using Actors.Runtime.Membership;
using Microsoft.Extensions.Options;

namespace Actors.Silo.Cluster;

/// <summary>Keeps this silo's membership row fresh. If the cluster has declared this silo dead
/// (it stalled past the timeout and its work was handed on), the process stops: it must come
/// back as a new silo. A clean stop leaves the cluster.</summary>
internal sealed partial class SiloHeartbeat(IMembershipTable membership, SiloIdentity silo, IOptions<ClusterOptions> options,
    IHostApplicationLifetime lifetime, ILogger<SiloHeartbeat> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        var gpu = o.Has("gpu") ? silo.InstanceId : null;
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(o.HeartbeatSeconds));
        do
        {
            try
            {
                if (!await membership.HeartbeatAsync(silo.SiloId, silo.Address, silo.Roles, gpu, stoppingToken))
                {
                    LogDeclaredDead(logger, silo.SiloId);
                    lifetime.StopApplication();
                    return;
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogHeartbeatFailed(logger, e);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        try
        {
            await membership.LeaveAsync(silo.SiloId, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogHeartbeatFailed(logger, e);
        }
    }

    [LoggerMessage(Level = LogLevel.Critical, Message = "Silo {SiloId} was declared dead by the cluster; stopping (restart to rejoin under a new id)")]
    private static partial void LogDeclaredDead(ILogger logger, string siloId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Heartbeat failed")]
    private static partial void LogHeartbeatFailed(ILogger logger, Exception error);
}
