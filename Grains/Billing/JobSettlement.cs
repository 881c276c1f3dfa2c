using System.Collections.Concurrent;
using Actors.Grains.Tenants;
using Microsoft.Extensions.Logging;

namespace Actors.Grains.Billing;

/// <summary>Tells a billed job's tenant that the job finished, after the job's state commits.
/// Jobs of one tenant that finish while its previous call is in flight go together in the next
/// call (one tenant turn for many jobs under load). Best effort by design: if a call is lost (a
/// crash), the tenant's reservations reminder finds the finished job and settles it; either way
/// the tenant reads each job's committed state and settles it once.</summary>
public sealed partial class JobSettlement(IGrainFactory grains, ILogger<JobSettlement> logger)
{
    private readonly ConcurrentDictionary<string, Pending> _tenants = new();

    public void Finished(string tenantId, string jobId)
    {
        var pending = _tenants.GetOrAdd(tenantId, static _ => new Pending());
        lock (pending)
        {
            pending.Jobs.Add(jobId);
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
            List<string> batch;
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

            try
            {
                await grains.GetGrain<ITenantGrain>(tenantId).FinishJobsAsync(batch);
            }
            catch (Exception e)
            {
                LogFailed(logger, batch.Count, tenantId, e);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "settling {Count} job(s) with tenant {TenantId} failed; its reservations reminder will")]
    private static partial void LogFailed(ILogger logger, int count, string tenantId, Exception e);

    private sealed class Pending
    {
        public List<string> Jobs { get; set; } = [];

        public bool Draining { get; set; }
    }
}
