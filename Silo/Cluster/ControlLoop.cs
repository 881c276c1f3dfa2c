using Actors.Client.Api.Billing;
using Actors.Client.Api.Webhooks;
using Actors.Grains;
using Actors.Grains.Instances;
using Actors.Grains.Jobs;
using Actors.Runtime.Membership;
using Actors.Runtime.Queue;
using Actors.Runtime.Reminders;
using Microsoft.Extensions.Options;

namespace Actors.Silo.Cluster;

/// <summary>The control role, twice a second: declare silos that missed their beats dead and
/// recover what they held (their instances go back to WARM, marked down; their job leases end);
/// put lapsed jobs back or fail them; deliver due reminders, webhooks and the Stripe outbox.
/// Any number of control silos may run this at once: each step hands every item to one of them only.</summary>
internal sealed partial class ControlLoop(IMembershipTable membership, IJobQueue queue, IGrainFactory grains, ReminderDelivery reminders,
    WebhookDispatcher webhooks, StripeOutboxDispatcher stripeOutbox, SiloIdentity silo, IOptions<ClusterOptions> options, ILogger<ControlLoop> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        var deadAfter = TimeSpan.FromSeconds(o.HeartbeatSeconds * o.DeadAfterBeats);
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(500));
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            await Step("membership", () => RecoverDeadSilosAsync(deadAfter, stoppingToken));
            await Step("leases", RecoverLapsedJobsAsync);
            await Step("reminders", () => reminders.DeliverDueAsync(silo.SiloId, cancellationToken: stoppingToken));
            await Step("webhooks", () => webhooks.DeliverDueAsync(stoppingToken));
            await Step("stripe", () => stripeOutbox.SendDueAsync(stoppingToken));
        }
    }

    internal async Task RecoverDeadSilosAsync(TimeSpan deadAfter, CancellationToken ct)
    {
        foreach (var dead in await membership.DeclareDeadAsync(deadAfter, ct))
        {
            var leases = await queue.ExpireLeasesOfAsync(dead.SiloId, ct);
            LogSiloDead(logger, dead.SiloId, leases);
            if (dead.Gpu is { Length: > 0 } instanceId)
            {
                await grains.GetGrain<IInstanceGrain>(instanceId).HostStoppedAsync(dead.SiloId, $"silo {dead.SiloId} missed its heartbeats");
            }
        }
    }

    /// <summary>Each lapsed job goes back to its grain: requeued (attempts left) or failed. The
    /// grain decides; a job it has already finished loses its queue row.</summary>
    internal async Task RecoverLapsedJobsAsync()
    {
        foreach (var lapsed in await queue.RecoverLapsedAsync())
        {
            var job = grains.GetGrain<IJobGrain>(lapsed.JobId);
            try
            {
                if (lapsed.Requeued)
                {
                    await job.RequeueAsync($"lease lapsed on attempt {lapsed.Attempts}");
                }
                else
                {
                    await job.FailAsync(lapsed.Failure ?? "lease lapsed; out of attempts", null);
                    await queue.RemoveAsync(lapsed.JobId);
                }
            }
            catch (InvalidTransitionException)
            {
                var now = await job.GetAsync();
                if (now.IsTerminal || now.Request is null)
                {
                    await queue.RemoveAsync(lapsed.JobId); // finished (or never submitted): nothing to run
                }
            }
        }
    }

    private async Task Step(string name, Func<Task> step)
    {
        try
        {
            await step();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogStepFailed(logger, name, e);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Silo {SiloId} declared dead; {Leases} job leases released")]
    private static partial void LogSiloDead(ILogger logger, string siloId, int leases);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Control step {Step} failed")]
    private static partial void LogStepFailed(ILogger logger, string step, Exception error);
}
