using Actors.Grains.Hosting;
using Actors.Storage.OrleansProviders;
using Actors.Storage.Schema;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;

namespace Actors.Grains.Tests;

/// <summary>A real Orleans silo in this process with our grains, state and reminders on a SQLite
/// file (migrated with our schema), and the services the test registers (its clock, providers).</summary>
internal static class GrainsSilo
{
    public static async Task<IHost> StartAsync(string sqlitePath, Action<IServiceCollection> services)
    {
        await SchemaMigrator.SqliteAsync(sqlitePath);
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        services(builder.Services);
        builder.UseOrleans(silo =>
        {
            var id = "g" + Guid.NewGuid().ToString("N")[..10];
            silo.UseLocalhostClustering(Actors.Storage.LoopbackPorts.Free(), Actors.Storage.LoopbackPorts.Free(), serviceId: "grains-tests", clusterId: id);
            silo.UseSqliteStore(sqlitePath, "grains-tests");
            silo.Configure<ReminderOptions>(r => r.MinimumReminderPeriod = TimeSpan.FromSeconds(1));
            silo.AddActorsGrains();
        });
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

}
