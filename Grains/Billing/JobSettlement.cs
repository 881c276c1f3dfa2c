using Actors.Grains.Tenants;
using Microsoft.Extensions.Logging;

namespace Actors.Grains.Billing;

/// <summary>Tells a billed job's tenant that the job finished, after the job's state commits.
/// Best effort by design: if this call is lost (a crash), the tenant's reservations reminder
/// finds the finished job and settles it; either way the tenant reads the job's committed state,
/// and settles each job once.</summary>
public sealed partial class JobSettlement(IGrainFactory grains, ILogger<JobSettlement> logger)
{
    public void Finished(string tenantId, string jobId) => _ = FinishAsync(tenantId, jobId);

    internal async Task FinishAsync(string tenantId, string jobId)
    {
        try
        {
            await grains.GetGrain<ITenantGrain>(tenantId).FinishJobAsync(jobId);
        }
        catch (Exception e)
        {
            LogFailed(logger, jobId, tenantId, e);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "settling job {JobId} with tenant {TenantId} failed; its reminder will")]
    private static partial void LogFailed(ILogger logger, string jobId, string tenantId, Exception e);
}
