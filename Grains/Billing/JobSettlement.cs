using System.Collections.Concurrent;
using Actors.Grains.Jobs;
using Actors.Grains.Tenants;
using Microsoft.Extensions.Logging;

namespace Actors.Grains.Billing;

/// <summary>Tells a billed job's tenant that the job finished, after the job's state commits.
/// Jobs of one tenant that finish while its previous call is in flight go together in the next
/// call (one tenant turn for many jobs under load). A call that fails (the tenant's silo died and
/// the cluster has not yet moved it) is tried again, 0.5 s, 1 s, 2 s … up to about 30 s later,
/// so settlement follows the tenant's recovery within seconds; past that, or if this silo dies,
/// the tenant's reservations reminder (and its check on activation) settles the job, reading the
/// job's committed state. The call carries each job's outcome as its grain committed it, so the
/// tenant reads nothing back; either way a job is settled once.</summary>
public partial class JobSettlement(IGrainFactory grains, ILogger<JobSettlement> logger)
{
    private static readonly TimeSpan[] RetryDelays =
    [
        TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(8), TimeSpan.FromSeconds(15),
    ];

    private readonly ConcurrentDictionary<string, Pending> _tenants = new();

    /// <summary>Virtual so a test can lose the call, as a crash would.</summary>
    public virtual void Finished(string tenantId, JobSnapshot job)
    {
        var pending = _tenants.GetOrAdd(tenantId, static _ => new Pending());
        lock (pending)
        {
            pending.Jobs.Add(job);
            if (pending.Draining)
            {
                return;
            }

            pending.Draining = true;
        }

        _ = DrainAsync(tenantId, pending);
    }

    private async Task DrainAsync(string tenantId, Pending pending)
    {
        while (true)
        {
            List<JobSnapshot> batch;
            lock (pending)
            {
                if (pending.Jobs.Count == 0)
                {
                    pending.Draining = false;
                    return;
                }

                batch = pending.Jobs;
                pending.Jobs = [];
            }

            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    await grains.GetGrain<ITenantGrain>(tenantId).FinishJobsAsync(batch);
                    break;
                }
                catch (Exception e) when (attempt < RetryDelays.Length)
                {
                    LogRetry(logger, batch.Count, tenantId, e.Message);
                    await Task.Delay(RetryDelays[attempt]);
                }
                catch (Exception e)
                {
                    LogFailed(logger, batch.Count, tenantId, e);
                    break;
                }
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "settling {Count} job(s) with tenant {TenantId} failed ({Error}); trying again")]
    private static partial void LogRetry(ILogger logger, int count, string tenantId, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "settling {Count} job(s) with tenant {TenantId} failed; its reservations reminder will")]
    private static partial void LogFailed(ILogger logger, int count, string tenantId, Exception e);

    private sealed class Pending
    {
        public List<JobSnapshot> Jobs { get; set; } = [];

        public bool Draining { get; set; }
    }
}
