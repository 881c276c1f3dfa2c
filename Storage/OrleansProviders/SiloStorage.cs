using Actors.Storage.Schema;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Orleans;
using Orleans.Hosting;
using Orleans.Storage;

namespace Actors.Storage.OrleansProviders;

/// <summary>Where a silo keeps grain state and reminders: on the cluster's own store, through
/// Orleans' ADO.NET providers reading our migrations' queries. PostgreSQL: Persistence.AdoNet
/// and Reminders.AdoNet. SQLite (embedded): Persistence.AdoNet (invariant System.Data.SQLite)
/// and our <see cref="SqliteReminderTable"/>. State is stored as JSON (<see cref="JsonGrainStateSerializer"/>).</summary>
public static class SiloStorage
{
    public static ISiloBuilder UsePostgresStore(this ISiloBuilder silo, string connectionString)
    {
        ArgumentNullException.ThrowIfNull(silo);
        connectionString = Sql.PostgresConnections.Lean(connectionString);
        silo.AddAdoNetGrainStorageAsDefault(s => (s.Invariant, s.ConnectionString, s.GrainStorageSerializer) = ("Npgsql", connectionString, new JsonGrainStateSerializer()));
        silo.UseAdoNetReminderService(r => (r.Invariant, r.ConnectionString) = ("Npgsql", connectionString));
        AddJobRows(silo.Services);
        return silo;
    }

    public static ISiloBuilder UseSqliteStore(this ISiloBuilder silo, string path, string serviceId)
    {
        ArgumentNullException.ThrowIfNull(silo);
        var connection = new SqliteConnectionStringBuilder { DataSource = Path.GetFullPath(path), DefaultTimeout = 30, Pooling = true }.ToString();
        silo.AddAdoNetGrainStorageAsDefault(s => (s.Invariant, s.ConnectionString, s.GrainStorageSerializer) = ("System.Data.SQLite", connection, new JsonGrainStateSerializer()));
        LockWrites(silo.Services, SqliteFileLocks.For(Path.GetFullPath(path)));
        silo.AddReminders();
        silo.Services.AddSingleton<IReminderTable>(new SqliteReminderTable(path, serviceId));
        AddJobRows(silo.Services);
        return silo;
    }

    /// <summary>Job states go to the jobs table, one row per job (<see cref="JobStateStorage"/>),
    /// through the cluster's <see cref="Sql.SqlStore"/> (embedded: its writer lock).</summary>
    private static void AddJobRows(IServiceCollection services) =>
        services.AddKeyedSingleton<IGrainStorage>(JobStateStorage.Name, (sp, _) =>
            new JobStateStorage(sp.GetRequiredService<Sql.SqlStore>(), sp.GetService<TimeProvider>() ?? TimeProvider.System));

    /// <summary>Wraps the default grain storage the ADO.NET provider registered (a keyed singleton
    /// built by its factory) in <see cref="WriterLockedGrainStorage"/>.</summary>
    private static void LockWrites(IServiceCollection services, SqliteFileLocks locks)
    {
        var name = Orleans.Providers.ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME;
        var registered = services.Single(d => d.ServiceType == typeof(IGrainStorage) && d.IsKeyedService && Equals(d.ServiceKey, name));
        var create = registered.KeyedImplementationFactory ?? throw new InvalidOperationException("the ADO.NET grain storage is not registered by a factory");
        services.Remove(registered);
        services.AddKeyedSingleton<IGrainStorage>(name, (sp, key) => new WriterLockedGrainStorage((IGrainStorage)create(sp, key), locks));
    }
}
