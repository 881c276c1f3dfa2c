using Actors.Storage;

namespace Actors.Silo.Cluster;

/// <summary>Runs before the Orleans silo starts: applies the store's migrations, which also hold
/// the tables and queries Orleans' ADO.NET providers read when they start.</summary>
internal sealed class StoreMigration(ClusterStore store) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => store.MigrateAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
