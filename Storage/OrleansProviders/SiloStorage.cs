using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Orleans;
using Orleans.Hosting;

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
        silo.AddAdoNetGrainStorageAsDefault(s => (s.Invariant, s.ConnectionString, s.GrainStorageSerializer) = ("Npgsql", connectionString, new JsonGrainStateSerializer()));
        silo.UseAdoNetReminderService(r => (r.Invariant, r.ConnectionString) = ("Npgsql", connectionString));
        return silo;
    }

    public static ISiloBuilder UseSqliteStore(this ISiloBuilder silo, string path, string serviceId)
    {
        ArgumentNullException.ThrowIfNull(silo);
        var connection = new SqliteConnectionStringBuilder { DataSource = Path.GetFullPath(path), DefaultTimeout = 30, Pooling = true }.ToString();
        silo.AddAdoNetGrainStorageAsDefault(s => (s.Invariant, s.ConnectionString, s.GrainStorageSerializer) = ("System.Data.SQLite", connection, new JsonGrainStateSerializer()));
        silo.AddReminders();
        silo.Services.AddSingleton<IReminderTable>(new SqliteReminderTable(path, serviceId));
        return silo;
    }
}
