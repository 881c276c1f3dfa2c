using System.Net;
using Actors.Storage.OrleansProviders;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans;
using Orleans.Configuration;
using Orleans.Hosting;
using StackExchange.Redis;

namespace Actors.Storage.Tests.OrleansProviders;

/// <summary>A real Orleans silo in this process, its state and reminders on one of our stores
/// (migrated with our own SQL): SQLite (reminders through <see cref="SqliteReminderTable"/>) or
/// PostgreSQL (Persistence.AdoNet and Reminders.AdoNet). Clustered on localhost, or through Redis.</summary>
public static class TestSilo
{
    /// <summary>The default grain storage's name, where the grains' state goes.</summary>
    public const string Store = "Default";

    public static async Task<IHost> StartAsync(string serviceId, string? sqlitePath = null, string? postgres = null, string? redis = null)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.UseOrleans(silo =>
        {
            var (siloPort, gatewayPort) = (Actors.Storage.LoopbackPorts.Free(), Actors.Storage.LoopbackPorts.Free());
            silo.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (serviceId, serviceId));
            if (redis is null)
            {
                silo.UseLocalhostClustering(siloPort, gatewayPort, serviceId: serviceId, clusterId: serviceId);
            }
            else
            {
                silo.ConfigureEndpoints(IPAddress.Loopback, siloPort, gatewayPort, listenOnAnyHostAddress: false);
                silo.UseRedisClustering(o => o.ConfigurationOptions = ConfigurationOptions.Parse(redis + ",abortConnect=false"));
            }

            silo.Configure<ReminderOptions>(o => o.MinimumReminderPeriod = TimeSpan.FromSeconds(1));
            if (sqlitePath is not null)
            {
                silo.UseSqliteStore(sqlitePath, serviceId);
            }
            else
            {
                silo.UsePostgresStore(postgres!);
            }
        });
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

    public static IGrainFactory Grains(this IHost host) => host.Services.GetRequiredService<IGrainFactory>();

    public static async Task StopQuietlyAsync(this IHost host)
    {
        await host.StopAsync();
        host.Dispose();
    }

}
