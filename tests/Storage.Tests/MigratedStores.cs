using Actors.Storage.Schema;
using Npgsql;

namespace Actors.Storage.Tests;

/// <summary>The schema every table needs (ours and Orleans' providers'), applied first.</summary>
internal static class MigratedStores
{
    public static async Task<string> SqliteAsync(string path)
    {
        await SchemaMigrator.SqliteAsync(path);
        return path;
    }

    public static async Task<string> PostgresAsync(string connectionString)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await SchemaMigrator.PostgresAsync(dataSource);
        return connectionString;
    }
}
