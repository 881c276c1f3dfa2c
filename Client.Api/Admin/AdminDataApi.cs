using Actors.Grains;
using Actors.Grains.Cluster;
using Actors.Grains.Stores;
using Actors.Grains.Tenants;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Actors.Client.Api.Admin;

/// <summary>A tenant's data on request (admin key): erase all of it, and the erasure audit trail.</summary>
internal static class AdminDataApi
{
    public static RouteGroupBuilder MapAdminData(this RouteGroupBuilder group)
    {
        group.MapDelete("/tenants/{id}/data", EraseTenantAsync)
            .WithSummary("Erase everything a tenant stored: unfinished jobs canceled, every job's input and output, its cache entries; logged for audit")
            .ProducesProblem(404);
        group.MapGet("/erasures", ListErasuresAsync).WithSummary("The erasure audit trail (who, what, when, how much; never the content), newest first; ?tenant= for one");
        return group;
    }

    internal static async Task<IResult> EraseTenantAsync(string id, IGrainFactory grains)
    {
        if (!(await grains.GetGrain<ITenantGrain>(id).GetAsync()).Exists)
        {
            return Problems.NotFound("tenant_not_found", $"no tenant '{id}'");
        }

        // Pass after pass (each one grain call of a bounded number of jobs), however many jobs.
        var housekeeping = grains.GetGrain<IHousekeepingGrain>(IHousekeepingGrain.ClusterKey);
        var erased = TenantErasure.Start(id);
        do
        {
            erased = await housekeeping.EraseTenantAsync(erased, "admin");
        }
        while (!erased.Complete);

        return TypedResults.Ok(new
        {
            tenantId = erased.TenantId,
            jobs = erased.Jobs,
            objectsDeleted = erased.Blobs.Deleted,
            bytesDeleted = erased.Blobs.Bytes,
            cacheEntriesDropped = erased.CacheEntries,
        });
    }

    internal static async Task<IResult> ListErasuresAsync(IErasureLog log, string? tenant, int? limit) =>
        TypedResults.Ok(await log.ListAsync(string.IsNullOrEmpty(tenant) ? null : tenant, Math.Clamp(limit ?? 100, 1, 1000)));
}
