using Actors.Fleet.Providers;
using Actors.Grains.Billing;
using Actors.Grains.Cluster;
using Actors.Grains.Fleet;
using Actors.Grains.Instances;
using Actors.Grains.Jobs;
using Actors.Storage;
using Actors.Storage.Blobs;
using Actors.Storage.Cache;
using Actors.Storage.Queue;
using Actors.Storage.Sql;
using Actors.Silo.Fleet;
using Actors.Silo.Gpu;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Actors.Storage.OrleansProviders;
using Actors.Grains.Stores;

namespace Actors.Silo.Cluster;

/// <summary>Registers the cluster: the store (SQLite embedded or PostgreSQL) and what the grains
/// use beside Orleans (queue, blobs, cache, read models), the Orleans silo, and the hosted
/// services of this silo's roles.</summary>
internal static class ClusterHosting
{
    private static readonly string[] RequiredPlans = ["free", "premium", "pro", "enterprise"];

    public static WebApplicationBuilder AddCluster(this WebApplicationBuilder builder, ClusterOptions roles)
    {
        var services = builder.Services;
        services.AddOptions<ClusterOptions>().BindConfiguration(ClusterOptions.Section)
            .PostConfigure(o => o.DataPath = Path.GetFullPath(o.DataPath, builder.Environment.ContentRootPath))
            .Validate(o => o.IsPostgres ? o.ConnectionString.Length > 0 : o.Store.Equals("sqlite", StringComparison.OrdinalIgnoreCase),
                "Cluster:Store must be sqlite, or postgres with Cluster:ConnectionString")
            .Validate(o => o.RoleSet.Count > 0 && o.RoleSet.All(r => r is "api" or "control" or "gpu"), "Cluster:Roles must be some of api, control, gpu")
            .Validate(o => o.ProbeSeconds > 0 && o.MissedProbes > 0 && o.LeaseSeconds > 0 && o.InFlightBatches > 0 && o.ErasureJobsPerPass > 0, "Cluster timings out of range")
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<SiloIdentity>();
        services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<ClusterOptions>>().Value;
            var time = sp.GetRequiredService<TimeProvider>();
            return o.IsPostgres ? ClusterStore.Postgres(o.ConnectionString, time) : ClusterStore.Sqlite(Path.Combine(o.DataPath, "actors.db"), time);
        });
        services.AddSingleton(sp => sp.GetRequiredService<ClusterStore>().Queue);
        services.AddSingleton<IQueueReads>(sp => sp.GetRequiredService<IJobQueue>());
        services.AddSingleton<ClusterMembers>();
        services.AddSingleton<Actors.Client.Api.Admin.ISiloDirectory>(sp => sp.GetRequiredService<ClusterMembers>());
        services.AddSingleton(sp => sp.GetRequiredService<ClusterStore>().Sql);
        services.AddOptions<BlobOptions>().BindConfiguration(BlobOptions.Section)
            .Validate(o => o.Problem() is null, "Blobs: Store must be file or s3 (with Blobs:S3:Bucket; a ServiceUrl must be an absolute URL)")
            .ValidateOnStart();
        services.AddSingleton<IObjectStore>(sp =>
        {
            var o = sp.GetRequiredService<IOptions<BlobOptions>>().Value;
            var cluster = sp.GetRequiredService<IOptions<ClusterOptions>>().Value;
            return o.IsS3
                ? new S3ObjectStore(o.S3, sp.GetRequiredService<ILoggerFactory>().CreateLogger<S3ObjectStore>())
                : new FileObjectStore(o.Path is { Length: > 0 } path ? Path.GetFullPath(path, cluster.DataPath) : Path.Combine(cluster.DataPath, "blobs"));
        });
        services.AddSingleton(sp => new BlobStore(sp.GetRequiredService<IObjectStore>(), sp.GetRequiredService<SqlStore>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<IBlobStore>(sp => sp.GetRequiredService<BlobStore>());
        services.AddSingleton<ResultCache>();
        services.AddActorsStores();
        services.AddSingleton<QueueSignal>();
        services.AddSingleton<JobSettlement>();
        services.AddSingleton<JobServices>();
        services.AddOptions<BillingOptions>().BindConfiguration(BillingOptions.Section)
            .Validate(o => o.Plans.ContainsKey(o.DowngradePlan) && RequiredPlans.All(o.Plans.ContainsKey),
                "Billing:Plans must keep free, premium, pro and enterprise (and the DowngradePlan)")
            .Validate(o => o.Plans.Values.All(p => p.IncludedCredits >= 0 && p.CacheHitPriceFactor >= 0 && (p.RateLimit is null || (p.RateLimit.Jobs > 0 && p.RateLimit.PerSeconds > 0))),
                "Billing:Plans: credits, cache factor and rate limits must be positive")
            .Validate(o => o.Plans.Values.All(p => p.Retention.Problem() is null), "Billing:Plans:*:Retention: days must be positive (at most 3650)")
            .Validate(o => o.ModelPrices.Values.All(p => p >= 0) && o.DefaultModelPrice >= 0 && o.ReservationCheckSeconds > 0, "Billing prices and timings out of range")
            .ValidateOnStart();
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<BillingOptions>>().Value);
        services.AddSingleton<InstanceDirectory>();
        services.AddSingleton<IInstanceDirectory>(sp => sp.GetRequiredService<InstanceDirectory>());
        services.AddOptions<PoolOptions>().BindConfiguration(PoolOptions.Section)
            .Validate(o => o.Defaults().Problem() is null, "Fleet: policy must be seed or slo, 0 <= MinHot <= MaxInstances, budget >= 0")
            .Validate(o => o.TickSeconds > 0 && o.QuietMinutes > 0 && o.ScaleInMinutes > 0 && o.ServiceSecondsPerJob > 0 && o.ArrivalWindowSeconds > 0, "Fleet timings must be positive")
            .ValidateOnStart();
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<PoolOptions>>().Value);
        services.AddOptions<LocalProviderOptions>().BindConfiguration(LocalProviderOptions.Section)
            .Validate(o => o.HotPerHour >= 0 && o.WarmPerHour >= 0 && o.GpuType.Length > 0, "Fleet:Local prices must not be negative")
            .ValidateOnStart();
        services.AddSingleton<HostControlClient>();
        services.AddSingleton<IInstanceProvider, HostControlProvider>();
        services.AddSingleton<IInstanceProvider, LocalProcessProvider>();
        services.AddClouds(builder.Configuration, roles);
        services.AddSingleton<InstanceProviders>();
        services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<ClusterOptions>>().Value;
            // A job's record outlives its outputs: kept the longest output retention any plan gives.
            var outputs = sp.GetRequiredService<BillingOptions>().Plans.Values.Select(p => p.Retention.Output).DefaultIfEmpty(TimeSpan.Zero).Max();
            return new RetentionPolicy(TimeSpan.FromMinutes(o.MaxQueueMinutes), TimeSpan.FromHours(o.RetentionHours) > outputs ? TimeSpan.FromHours(o.RetentionHours) : outputs,
                o.ErasureJobsPerPass);
        });

        // Order matters: an embedded silo first makes sure its data folder is its own, the store
        // is migrated before Orleans starts (its providers read their queries from it), grains are
        // called once Orleans runs, and the GPU host stops (drains) before this silo leaves the
        // cluster.
        services.AddHostedService<EmbeddedDataLock>();
        services.AddHostedService<StoreMigration>();
        builder.AddOrleansSilo(roles);
        services.AddHostedService<ClusterStartup>();
        if (roles.Has("control"))
        {
            services.AddHostedService<ControlLoop>();
        }

        if (roles.Has("gpu"))
        {
            services.AddSingleton<JobComputer>();
            services.AddSingleton<GpuHost>();
            services.AddHostedService(sp => sp.GetRequiredService<GpuHost>());
        }

        return builder;
    }
}
