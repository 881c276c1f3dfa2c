using Actors.Grains.Billing;
using Actors.Storage;
using Actors.Storage.Blobs;

namespace Actors.Silo.Cluster;

/// <summary>Runs before the Orleans silo starts: applies the store's migrations, which also hold
/// the tables and queries Orleans' ADO.NET providers read when they start; and readies an S3
/// bucket (created if asked, lifecycle rules if asked).</summary>
internal sealed class StoreMigration(ClusterStore store, IObjectStore objects, BillingOptions billing) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await store.MigrateAsync(cancellationToken);
        // The safety net behind the sweeper (stores that take lifecycle rules): each class's
        // prefix expires a day after the longest retention any plan gives that class.
        var plans = billing.Plans.Values.Select(p => p.Retention).DefaultIfEmpty(new Actors.Grains.Jobs.DataRetention()).ToList();
        var days = new Dictionary<string, int>
        {
            ["input"] = (int)Math.Ceiling(plans.Max(r => r.InputDays)) + 1,
            ["output"] = (int)Math.Ceiling(plans.Max(r => Math.Max(r.OutputDays, r.CacheDays))) + 1,
        };
        await objects.PrepareAsync(days, cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
