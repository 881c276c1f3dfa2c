using System.Runtime;
using System.Security.Cryptography;
using Actors.Client.Api.Auth;
using Actors.Client.Api.Billing;
using Actors.Grains;
using Actors.Grains.Diagnostics;
using Actors.Grains.Instances;
using Actors.Grains.Jobs;
using Actors.Grains.Stores;
using Actors.Grains.Tenants;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Actors.Client.Api.Admin;

/// <summary>/admin/*: tenants and keys, instances, jobs, silos, and the single-writer probe.
/// Every call needs the admin key.</summary>
internal static class AdminApi
{
    public static RouteGroupBuilder MapAdmin(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/admin").WithTags("admin");
        group.RequireAdminKey();
        group.MapPost("/tenants", CreateTenantAsync).WithSummary("Create a tenant and its first API key");
        group.MapGet("/tenants/{id}", GetTenantAsync);
        group.MapPut("/tenants/{id}/tier", SetTierAsync);
        group.MapPost("/tenants/{id}/keys", IssueKeyAsync);
        group.MapDelete("/tenants/{id}/keys/{keyId}", RevokeKeyAsync);
        group.MapAdminBilling();
        group.MapAdminData();
        group.MapGet("/instances", ListInstancesAsync);
        group.MapCapacity();
        group.MapFleet();
        group.MapAnalytics();
        group.MapGet("/jobs", ListJobsAsync);
        group.MapGet("/silos", ListSilos);
        group.MapPost("/memory/collect", CollectMemory)
            .WithSummary("A full, compacting garbage collection on the silo that answers; then its managed heap and working set (soak tests, leak hunts)");
        group.MapGet("/webhooks", ListWebhooksAsync).WithSummary("Webhook deliveries (of one job with ?job=)");
        group.MapPost("/probe/{key}/increment", async (string key, IGrainFactory grains) => TypedResults.Ok(new { count = await grains.GetGrain<IProbeGrain>(key).IncrementAsync() }));
        group.MapGet("/probe/{key}", async (string key, IGrainFactory grains) => TypedResults.Ok(new { count = await grains.GetGrain<IProbeGrain>(key).GetAsync() }));
        return group;
    }

    internal static async Task<IResult> CreateTenantAsync(CreateTenant body, IGrainFactory grains)
    {
        if (string.IsNullOrWhiteSpace(body.Name) || body.Name.Length > 200)
        {
            return Problems.BadRequest("malformed_request", "'name' is required (at most 200 characters)");
        }

        if (ParseTier(body.Tier) is not { } tier)
        {
            return Problems.Unprocessable("unknown_tier", $"tier must be free, premium, pro or enterprise; got '{body.Tier}'");
        }

        var id = body.Id ?? "t_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        if (!TenantIds.IsValid(id))
        {
            return Problems.BadRequest("malformed_request", $"'id' is 1 to {TenantIds.MaxLength} letters, digits, '_' and '-' (or leave it out for a generated one)");
        }

        var tenant = grains.GetGrain<ITenantGrain>(id);
        if ((await tenant.GetAsync()).Exists)
        {
            return Problems.Conflict("tenant_exists", $"tenant '{id}' already exists");
        }

        var created = await tenant.CreateAsync(body.Name.Trim(), tier);
        var key = await tenant.IssueApiKeyAsync();
        return TypedResults.Created($"/admin/tenants/{id}", new
        {
            tenantId = id,
            name = created.Name,
            tier = created.Tier.ToString(),
            apiKey = key.Key,
            keyId = key.KeyId,
            webhookSecret = await tenant.GetWebhookSecretAsync(),
        });
    }

    internal static async Task<IResult> GetTenantAsync(string id, IGrainFactory grains) =>
        await grains.GetGrain<ITenantGrain>(id).GetAsync() is { Exists: true } t
            ? TypedResults.Ok(new { tenantId = t.TenantId, name = t.Name, tier = t.Tier.ToString(), plan = t.PlanId, apiKeyIds = t.ApiKeyIds })
            : Problems.NotFound("tenant_not_found", $"no tenant '{id}'");

    internal static async Task<IResult> SetTierAsync(string id, SetTier body, IGrainFactory grains)
    {
        if (ParseTier(body.Tier) is not { } tier)
        {
            return Problems.Unprocessable("unknown_tier", $"tier must be free, premium, pro or enterprise; got '{body.Tier}'");
        }

        var tenant = grains.GetGrain<ITenantGrain>(id);
        if (!(await tenant.GetAsync()).Exists)
        {
            return Problems.NotFound("tenant_not_found", $"no tenant '{id}'");
        }

        var t = await tenant.SetTierAsync(tier);
        return TypedResults.Ok(new { tenantId = t.TenantId, tier = t.Tier.ToString() });
    }

    internal static async Task<IResult> IssueKeyAsync(string id, IGrainFactory grains)
    {
        var tenant = grains.GetGrain<ITenantGrain>(id);
        if (!(await tenant.GetAsync()).Exists)
        {
            return Problems.NotFound("tenant_not_found", $"no tenant '{id}'");
        }

        var key = await tenant.IssueApiKeyAsync();
        return TypedResults.Created($"/admin/tenants/{id}", new { apiKey = key.Key, keyId = key.KeyId });
    }

    internal static async Task<IResult> RevokeKeyAsync(string id, string keyId, IGrainFactory grains) =>
        await grains.GetGrain<ITenantGrain>(id).RevokeApiKeyAsync(keyId)
            ? TypedResults.NoContent()
            : Problems.NotFound("key_not_found", $"tenant '{id}' has no key '{keyId}'");

    internal static async Task<IResult> ListInstancesAsync(IInstanceDirectory directory, TimeProvider time)
    {
        var instances = await directory.SnapshotsAsync();
        var now = time.GetUtcNow();
        return TypedResults.Ok(instances.Select(i => InstanceView.Of(i, now)));
    }

    internal static async Task<IResult> ListJobsAsync(IJobListings index, string? tenant, string? status, int? limit)
    {
        if (Jobs.JobStatusFilter.Parse(status, out var statuses) is { } bad)
        {
            return bad;
        }

        var jobs = await index.ListAsync(tenant, statuses, Math.Clamp(limit ?? 100, 1, 1000));
        return TypedResults.Ok(jobs.Select(j => new { id = j.JobId, tenant = j.TenantId, model = j.Model, tier = ((Tier)j.Tier).ToString(), status = j.Status.ToString().ToLowerInvariant(), createdAt = j.CreatedAt, updatedAt = j.UpdatedAt }));
    }

    internal static IResult ListSilos(ISiloDirectory silos) => TypedResults.Ok(silos.List());

    internal static IResult CollectMemory()
    {
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        using var process = System.Diagnostics.Process.GetCurrentProcess();
        return TypedResults.Ok(new
        {
            heapBytes = GC.GetTotalMemory(forceFullCollection: false),
            gcHeapSizeBytes = GC.GetGCMemoryInfo().HeapSizeBytes,
            workingSetBytes = process.WorkingSet64,
        });
    }

    internal static async Task<IResult> ListWebhooksAsync(IWebhookDeliveries deliveries, string? job, int? limit) =>
        TypedResults.Ok(await deliveries.ListAsync(job, Math.Clamp(limit ?? 100, 1, 1000)));

    private static Tier? ParseTier(string? text) =>
        Enum.TryParse<Tier>(text, ignoreCase: true, out var tier) && Enum.IsDefined(tier) && !int.TryParse(text, out _) ? tier : null;

    internal sealed record CreateTenant(string? Name, string? Tier, string? Id);

    internal sealed record SetTier(string? Tier);
}
