using Actors.Client.Api.Billing;
using Actors.Client.Api.Webhooks;
using Actors.Grains;
using Actors.Grains.Instances;
using Actors.Grains.Jobs;
using Actors.Storage.Queue;

namespace Actors.Silo.Cluster;

/// <summary>The control role, twice a second: recover what silos that Orleans' membership declared
/// dead held (their job leases end; the instances they hosted go back to WARM, marked down); put
/// lapsed jobs back or fail them; deliver due webhooks and the Stripe outbox (reminders are
/// Orleans'). Any number of control silos may run this at once: every step is idempotent or hands
/// each item to one of them only.</summary>
internal sealed partial class ControlLoop(ClusterMembers members, IJobQueue queue, IGrainFactory grains, InstanceDirectory instances,
    WebhookDispatcher webhooks, StripeOutboxDispatcher stripeOutbox, SiloIdentity silo, Microsoft.Extensions.Options.IOptions<ClusterOptions> options,
    ILogger<ControlLoop> logger) : BackgroundService
{
    private MembershipVersion _recovered = MembershipVersion.MinValue;
    private long _recoveredAt;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(500));
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            await Step("membership", () => RecoverDeadSilosAsync(stoppingToken));
            await Step("leases", RecoverLapsedJobsAsync);
            await Step("webhooks", () => webhooks.DeliverDueAsync(stoppingToken));
            await Step("stripe", () => stripeOutbox.SendDueAsync(stoppingToken));
        }
    }

    /// <summary>Leases held by dead silos end at once; an instance whose host silo is dead goes back
    /// to WARM, marked down. Embedded, the one silo of its data folder (it holds the folder's lock)
    /// is the only holder alive: a lease any other silo holds is a killed process's, ended on the
    /// first pass after a restart rather than when it lapses. Read from the current state each time (not from one death event), so a
    /// step that fails, or a control silo that starts late, still recovers everything.</summary>
    internal async Task RecoverDeadSilosAsync(CancellationToken ct)
    {
        await members.DeclareEndedLocalSilosAsync();

        // Only when membership changed, or every 5 s (a recovery step may have failed before).
        if (members.Version == _recovered && Environment.TickCount64 - _recoveredAt < 5_000)
        {
            return;
        }

        var version = members.Version;
        foreach (var holder in (await queue.LeasedPerHostAsync(ct)).Keys)
        {
            if (members.IsDead(holder) || (!options.Value.IsPostgres && holder != silo.SiloId))
            {
                LogSiloDead(logger, holder, await queue.ExpireLeasesOfAsync(holder, ct));
            }
        }

        foreach (var seen in await instances.SnapshotsAsync(ct))
        {
            if (seen.HostSiloId is { } host && members.IsDead(host))
            {
                await grains.GetGrain<IInstanceGrain>(seen.InstanceId).HostStoppedAsync(host, $"silo {host} died");
            }
        }

        (_recovered, _recoveredAt) = (version, Environment.TickCount64);
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
                    await job.RequeueAsync($"lease lapsed on attempt {lapsed.Attempts}", lapsed.Attempts);
                }
                else
                {
                    await job.FailAsync(lapsed.Failure ?? "lease lapsed; out of attempts", lapsed.Attempts);
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
