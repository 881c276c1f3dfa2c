using System.Net;
using Actors.Grains.Hosting;
using Actors.Storage.OrleansProviders;
using Actors.Client.Api.Auth;
using Orleans.Configuration;
using Orleans.Dashboard;
using Orleans.Runtime.MembershipService.SiloMetadata;
using StackExchange.Redis;

namespace Actors.Silo.Cluster;

/// <summary>The Orleans silo in this process. Embedded (no Redis): localhost clustering, grain
/// state through Persistence.AdoNet on the SQLite file (invariant System.Data.SQLite) and
/// reminders in it through our <see cref="SqliteReminderTable"/>. Cluster: silos meet through
/// Redis; grain state and reminders in PostgreSQL (Persistence.AdoNet, Reminders.AdoNet). The
/// providers' tables and queries are our migrations' (Storage/Schema/Migrations).</summary>
internal static class OrleansHosting
{
    public static WebApplicationBuilder AddOrleansSilo(this WebApplicationBuilder builder, ClusterOptions o)
    {
        var dataPath = Path.GetFullPath(o.DataPath, builder.Environment.ContentRootPath);
        builder.UseOrleans(silo =>
        {
            var siloPort = o.SiloPort > 0 ? o.SiloPort : SiloIdentity.FreePort();
            var gatewayPort = o.GatewayPort > 0 ? o.GatewayPort : SiloIdentity.FreePort();
            silo.Configure<Orleans.Configuration.ClusterOptions>(c => (c.ClusterId, c.ServiceId) = (o.ClusterId, o.ServiceId));
            if (o.Redis.Length > 0)
            {
                if (IPAddress.TryParse(o.AdvertisedAddress, out var address))
                {
                    silo.ConfigureEndpoints(address, siloPort, gatewayPort, listenOnAnyHostAddress: !IPAddress.IsLoopback(address));
                }
                else
                {
                    silo.ConfigureEndpoints(o.AdvertisedAddress, siloPort, gatewayPort, System.Net.Sockets.AddressFamily.InterNetwork, listenOnAnyHostAddress: true);
                }
                silo.UseRedisClustering(r => r.ConfigurationOptions = RedisOptions(o.Redis));
            }
            else
            {
                silo.UseLocalhostClustering(siloPort, gatewayPort, serviceId: o.ServiceId, clusterId: o.ClusterId);
            }

            if (o.IsPostgres)
            {
                silo.UsePostgresStore(o.ConnectionString);
            }
            else
            {
                silo.UseSqliteStore(Path.Combine(dataPath, "actors.db"), o.ServiceId);
            }

            silo.Configure<ReminderOptions>(r => r.MinimumReminderPeriod = TimeSpan.FromSeconds(o.MinimumReminderSeconds));

            // Where grains live, cached per grain id (Orleans' default: a million entries). A job is
            // looked up a few times in its first seconds and rarely after; every job ever seen kept
            // ≈ 250 B here (50 MB per 200,000 jobs, bench/cluster-bench.sh --soak). 20,000 entries
            // hold the jobs of the last minute or so at several hundred jobs/s; an older one misses
            // the cache and is looked up in the directory again.
            silo.Configure<Orleans.Configuration.GrainDirectoryOptions>(d => d.CacheSize = 20_000);
            silo.UseSiloMetadata(SiloIdentity.Metadata(o, builder.Configuration["urls"]));
            // A silo that stops answering is declared dead after a few missed probes; its leases
            // and the instance it hosted are then recovered (ControlLoop).
            silo.Configure<ClusterMembershipOptions>(m =>
            {
                m.ProbeTimeout = TimeSpan.FromSeconds(o.ProbeSeconds);
                m.NumMissedProbesLimit = o.MissedProbes;
            });
            silo.AddActorsGrains();
            silo.AddDashboard(); // every silo reports its counters; api silos serve the pages (MapOrleansDashboardBehindAdminKey)
        });
        return builder;
    }

    /// <summary>The Orleans Dashboard (silos, grains, calls, reminders) at <c>/orleans</c>. It has no
    /// authentication of its own: the admin key guards it (Bearer, or Basic with the key as password).</summary>
    public static WebApplication MapOrleansDashboardBehindAdminKey(this WebApplication app)
    {
        app.MapGroup("").MapOrleansDashboard("/orleans").RequireAdminKeyFromBrowser().AddEndpointFilter(async (context, next) =>
        {
            try
            {
                return await next(context);
            }
            catch (Exception e) when (e is FormatException or ArgumentException || e.InnerException is FormatException or ArgumentException)
            {
                // The dashboard's API takes silo addresses and grain types from the path and throws
                // on one that does not parse: that is a bad request, not a server error.
                return Results.Problem(title: "not found", detail: $"no silo or grain '{context.HttpContext.Request.Path}': {(e.InnerException ?? e).Message}",
                    statusCode: StatusCodes.Status404NotFound, type: "not_found");
            }
        });
        return app;
    }

    /// <summary>Redis settings as StackExchange.Redis parses them; a silo keeps retrying while Redis
    /// is away (it must not give up at start or after a restart of Redis).</summary>
    public static ConfigurationOptions RedisOptions(string configuration)
    {
        var options = ConfigurationOptions.Parse(configuration);
        options.AbortOnConnectFail = false;
        return options;
    }
}
