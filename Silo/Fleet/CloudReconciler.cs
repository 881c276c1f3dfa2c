namespace Actors.Silo.Fleet;

/// <summary>The control role's loop over the clouds: at start and every
/// <see cref="CloudsOptions.ReconcileSeconds"/>, read offers and reconcile each cloud's machines
/// with the instance grains (<see cref="CloudFleet"/>).</summary>
internal sealed partial class CloudReconciler(CloudFleet clouds, IGrainFactory grains, Microsoft.Extensions.Options.IOptions<CloudsOptions> options,
    ILogger<CloudReconciler> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (clouds.Apis.Count == 0)
        {
            return;
        }

        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(Math.Max(1, options.Value.ReconcileSeconds)));
        do
        {
            try
            {
                await clouds.RefreshOffersAsync(stoppingToken);
                await clouds.ReconcileAsync(grains, stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogFailed(logger, e);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cloud reconciliation pass failed")]
    private static partial void LogFailed(ILogger logger, Exception error);
}
