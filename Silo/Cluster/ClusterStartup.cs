using Actors.Grains.Cluster;
using Actors.Grains.Fleet;
using Actors.Grains.Tenants;
using Actors.Storage;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace Actors.Silo.Cluster;

/// <summary>Runs once the Orleans silo is up (the store is migrated before it, by
/// <see cref="StoreMigration"/>): starts the housekeeping and pool reminders (control role) and,
/// embedded, creates the demo tenant; once the server listens, prints how to use it.</summary>
internal sealed partial class ClusterStartup(ClusterStore store, IGrainFactory grains, SiloIdentity silo, IOptions<ClusterOptions> options, PoolOptions pool,
    Actors.Storage.OrleansProviders.ReminderRows reminders, IHostApplicationLifetime lifetime, IServer server, ILogger<ClusterStartup> logger) : IHostedService
{
    public const string DemoTenantId = "demo";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        LogJoined(logger, silo.SiloId, silo.Roles, store.Description);
        if (o.Has("control"))
        {
            await grains.GetGrain<IHousekeepingGrain>(HousekeepingGrain.Key).StartAsync(TimeSpan.FromSeconds(o.HousekeepingSeconds));
            if (pool.Enabled)
            {
                await grains.GetGrain<IPoolGrain>(PoolGrain.Key).StartAsync(TimeSpan.FromSeconds(pool.TickSeconds), pool.Defaults());
            }

            _ = WakeTenantsWithOpenReservationsAsync(lifetime.ApplicationStopping);
        }

        string? demoKey = null;
        if (!o.IsPostgres && o.CreateDemoTenant && o.Has("api"))
        {
            demoKey = await EnsureDemoTenantAsync(o.DataPath);
        }

        lifetime.ApplicationStarted.Register(() =>
        {
            var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
            silo.Address = addresses.FirstOrDefault() ?? "";
            if (demoKey is not null)
            {
                PrintBanner(silo.Address, demoKey, Path.Combine(o.DataPath, "admin-key"));
            }
        });
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>After a restart (or a whole cluster's), the tenants that hold open reservations
    /// (those with the reservations reminder) are activated now: each checks its reservations a
    /// second after activation and settles the jobs that finished while no silo held it, instead
    /// of waiting for its reminder's next tick (up to Billing:ReservationCheckSeconds later). Jobs
    /// still running settle when they finish, as always. Any number of control silos may do this:
    /// activating a tenant twice is activating it once.</summary>
    private async Task WakeTenantsWithOpenReservationsAsync(CancellationToken stopping)
    {
        try
        {
            await Task.Yield();
            var tenants = await reminders.GrainKeysAsync("tenant", TenantGrain.ReservationsReminderName, cancellationToken: stopping);
            await Parallel.ForEachAsync(tenants, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = stopping },
                async (tenant, _) => await grains.GetGrain<ITenantGrain>(tenant).GetAsync());
            if (tenants.Count > 0)
            {
                LogWoken(logger, tenants.Count);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogWakeFailed(logger, e); // their reminders still tick
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Woke {Count} tenant(s) with open reservations to settle what finished while they were down")]
    private static partial void LogWoken(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Waking the tenants with open reservations failed; their reminders will settle them")]
    private static partial void LogWakeFailed(ILogger logger, Exception error);

    private async Task<string> EnsureDemoTenantAsync(string dataPath)
    {
        var keyFile = Path.Combine(dataPath, "demo-api-key");
        var tenant = grains.GetGrain<ITenantGrain>(DemoTenantId);
        var exists = (await tenant.GetAsync()).Exists;
        if (exists && File.Exists(keyFile))
        {
            return (await File.ReadAllTextAsync(keyFile)).Trim();
        }

        if (!exists)
        {
            await tenant.CreateAsync("Demo tenant", Tier.Pro);
        }

        var key = await tenant.IssueApiKeyAsync();
        await SecretFiles.WriteAsync(keyFile, key.Key);
        LogDemoTenantCreated(logger, DemoTenantId, keyFile);
        return key.Key;
    }

    private static void PrintBanner(string address, string key, string adminKeyFile)
    {
        var url = SiloIdentity.Loopback(address);
        Console.WriteLine($"""

            Actors silo is up (embedded: SQLite, all roles)
              API:        {url}/v1/models   OpenAPI: {url}/openapi/v1.json
              Dashboard:  {url}/dashboard/   (log in with the admin key)
              Health:     {url}/health/ready
              Demo key:   {key}   (tenant '{DemoTenantId}', tier Pro)
              Admin key:  in {adminKeyFile}

            Try it:
              curl -s -H "Authorization: Bearer {key}" {url}/v1/models
              curl -s -H "Authorization: Bearer {key}" -H "Prefer: wait=30" \
                   -F model=segmentation -F spacingXMm=0.8 -F input=@models/segmentation/sample.png {url}/v1/jobs

            """);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Silo {SiloId} ({Roles}) joined the cluster on {Store}")]
    private static partial void LogJoined(ILogger logger, string siloId, string roles, string store);

    [LoggerMessage(Level = LogLevel.Information, Message = "Created tenant {Tenant}; its API key is in {KeyFile}")]
    private static partial void LogDemoTenantCreated(ILogger logger, string tenant, string keyFile);
}
