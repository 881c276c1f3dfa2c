using Actors.Client.Api.Admin;
using Actors.Fleet.Providers;
using Actors.Fleet.Providers.Cloud;
using Actors.Silo.Cluster;

namespace Actors.Silo.Fleet;

/// <summary>Registers the GPU clouds of section "Providers": each enabled cloud's providers (on
/// demand, and spot where configured and sold) beside the local ones, the join check, and on a
/// control silo the offers-and-reconciliation loop.</summary>
internal static class CloudHosting
{
    public static IServiceCollection AddClouds(this IServiceCollection services, IConfiguration configuration, ClusterOptions roles)
    {
        services.AddOptions<CloudsOptions>().BindConfiguration(CloudsOptions.Section)
            .Validate(o => o.ReconcileSeconds > 0, "Providers:ReconcileSeconds must be positive")
            .ValidateOnStart();
        services.AddSingleton<IClusterJoin, ClusterJoin>();
        services.AddSingleton<CloudFleet>();
        services.AddSingleton<ICloudsView>(sp => sp.GetRequiredService<CloudFleet>());

        // One registration per provider name the configuration enables (read now; built on first use).
        var section = configuration.GetSection(CloudsOptions.Section);
        foreach (var (cloud, spotSold) in new[] { ("RunPod", true), ("Vast", true), ("Lambda", false) })
        {
            var c = section.GetSection(cloud);
            if (!c.GetValue<bool>("Enabled"))
            {
                continue;
            }

            var name = cloud.ToLowerInvariant();
            if (c.GetValue("OnDemand", true))
            {
                services.AddSingleton<IInstanceProvider>(sp => sp.GetRequiredService<CloudFleet>().Providers.Single(p => p.Name == name));
            }

            if (spotSold && c.GetValue<bool>("Spot"))
            {
                services.AddSingleton<IInstanceProvider>(sp => sp.GetRequiredService<CloudFleet>().Providers.Single(p => p.Name == name + "-spot"));
            }
        }

        if (roles.Has("control"))
        {
            services.AddHostedService<CloudReconciler>();
        }

        return services;
    }
}
