using Actors.Storage.OrleansProviders;
using Microsoft.Data.Sqlite;
using Orleans;
using Orleans.Runtime;

namespace Actors.Storage.Tests.OrleansProviders;

/// <summary>Our SQLite IReminderTable against the contract Orleans' reminder service relies on.</summary>
public sealed class SqliteReminderTableTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("actors-reminders-").FullName;

    private async Task<SqliteReminderTable> TableAsync(string service = "svc") =>
        new(await MigratedStores.SqliteAsync(Path.Combine(_dir, "cluster.db")), service);

    private static ReminderEntry Entry(GrainId grain, string name, int periodSeconds = 60) => new()
    {
        GrainId = grain, ReminderName = name, StartAt = new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc), Period = TimeSpan.FromSeconds(periodSeconds),
    };

    [Fact]
    public async Task UpsertGivesANewEtagAndRemoveNeedsTheCurrentOne()
    {
        var table = await TableAsync();
        var grain = GrainId.Create("tally", "x");
        var first = (await table.UpsertRow(Entry(grain, "tick")))!;
        var second = (await table.UpsertRow(Entry(grain, "tick", 120)))!;
        Assert.NotEqual(first, second);

        var row = (await table.ReadRow(grain, "tick"))!;
        Assert.Equal((grain, "tick", TimeSpan.FromSeconds(120), second, new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc)),
            (row.GrainId, row.ReminderName, row.Period, row.ETag, row.StartAt));
        Assert.Null(await table.ReadRow(grain, "other"));

        Assert.False(await table.RemoveRow(grain, "tick", first));
        Assert.False(await table.RemoveRow(grain, "tick", "not-an-etag"));
        Assert.True(await table.RemoveRow(grain, "tick", second));
        Assert.Empty((await table.ReadRows(grain)).Reminders);
    }

    [Fact]
    public async Task RangesFollowTheUniformHashAndWrap()
    {
        var table = await TableAsync();
        var grains = Enumerable.Range(0, 40).Select(i => GrainId.Create("tally", "g" + i)).ToList();
        foreach (var g in grains)
        {
            await table.UpsertRow(Entry(g, "a"));
            await table.UpsertRow(Entry(g, "b"));
        }

        await (await TableAsync("another-service")).UpsertRow(Entry(grains[0], "a"));

        var hashes = grains.Select(g => g.GetUniformHashCode()).Order().ToList();
        var (low, high) = (hashes[10], hashes[30]);
        var inside = (await table.ReadRows(low, high)).Reminders.Select(r => r.GrainId).Distinct().ToList();
        Assert.Equal(grains.Where(g => g.GetUniformHashCode() > low && g.GetUniformHashCode() <= high).Order(), inside.Order());
        Assert.Equal(40, (await table.ReadRows(high, low)).Reminders.Count); // wraps: (high, max] ∪ [0, low]
        Assert.Equal(80, (await table.ReadRows(0u, 0u)).Reminders.Count);  // begin == end: the whole ring
        Assert.Equal(2, (await table.ReadRows(grains[3])).Reminders.Count);

        await table.TestOnlyClearTable();
        Assert.Empty((await table.ReadRows(0u, 0u)).Reminders);
        Assert.Single((await (await TableAsync("another-service")).ReadRows(0u, 0u)).Reminders);
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }
}
