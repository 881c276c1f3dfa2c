using Actors.Runtime.Storage;

namespace Actors.Runtime.Tests;

/// <summary>The schema every runtime table needs (grains, queue, membership), applied first.</summary>
internal static class MigratedStores
{
    public static async Task<string> SqliteAsync(string path)
    {
        await new SqliteGrainStorage(path).MigrateAsync();
        return path;
    }

    public static async Task<string> PostgresAsync(string connectionString)
    {
        await using var storage = PostgresGrainStorage.Create(connectionString);
        await storage.MigrateAsync();
        return connectionString;
    }
}
