using Actors.Storage.ReadModels;
using Actors.Storage;
using Actors.Grains.Stores;

namespace Actors.Silo.Tests.Dashboard;

/// <summary>The dashboard's chart samples live in the store: one per 5-second slot whichever API
/// silo writes it, the last hour for the charts, a day kept; the same on SQLite and PostgreSQL,
/// and still there for a silo that starts after them.</summary>
public sealed class DashboardSamplesTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 23, 9, 0, 0, TimeSpan.Zero);

    public static TheoryData<string> Stores => ["sqlite", "postgres"];

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task OneSamplePerSlotAcrossSilosTheLastHourDrawnADayKeptAndARestartSeesThem(string kind)
    {
        var clock = new TestClock(Start);
        var sqlite = Path.Combine(Directory.CreateTempSubdirectory("actors-history-").FullName, "store.db");
        var connection = kind == "postgres" ? TestDatabases.Create("history") : null;
        ClusterStore Open() => connection is not null ? ClusterStore.Postgres(connection, clock) : ClusterStore.Sqlite(sqlite, clock);

        await using (var store = Open())
        {
            await store.MigrateAsync();
            var siloA = new DashboardSamples(store.Sql, clock);
            var siloB = new DashboardSamples(store.Sql, clock);

            // 26 h of samples from silo A (every 5 min, to keep it short); silo B samples the same slots 2 s later and is ignored.
            for (var t = TimeSpan.Zero; t < TimeSpan.FromHours(26); t += TimeSpan.FromMinutes(5))
            {
                clock.Now = Start + t;
                await siloA.AddAsync(new DashboardSample(clock.Now, (int)t.TotalMinutes % 40, 1, 2, 3, 4, 1.25m, 0.5m + (decimal)t.TotalHours));
                await siloB.AddAsync(new DashboardSample(clock.Now.AddSeconds(2), 999, 0, 0, 0, 0, 9m, 9m));
            }

            var lastHour = await siloB.LastHourAsync();
            Assert.Equal(12, lastHour.Count); // oldest first
            Assert.True(lastHour.Zip(lastHour.Skip(1)).All(p => p.First.At < p.Second.At));
            Assert.DoesNotContain(lastHour, s => s.QueueDepth == 999);
            var newest = lastHour[^1];
            Assert.Equal((clock.Now, 1.25m, Math.Round(0.5m + (decimal)(clock.Now - Start).TotalHours, 4)), (newest.At, newest.PerHour, Math.Round(newest.SpentTodayUsd, 4)));
            Assert.Equal((1, 2, 3, 4), (newest.Cold, newest.Warm, newest.Hot, newest.Serving));
        }

        // A silo started afterwards (a restart) draws the same hour; what is older than a day is gone.
        await using (var again = Open())
        {
            var history = new DashboardSamples(again.Sql, clock);
            Assert.Equal(12, (await history.LastHourAsync()).Count);
            clock.Now = Start.AddHours(30);
            Assert.Empty(await history.LastHourAsync());
            await history.AddAsync(new DashboardSample(clock.Now, 1, 0, 0, 1, 0, 0.22m, 3m));
            var kept = await again.Sql.ReadAsync(c => Dapper.SqlMapper.ExecuteScalarAsync<long>(c, "SELECT count(*) FROM dashboard_samples"));
            Assert.Equal(1 + (20 * 12), kept); // the sample just taken and those of the last 24 h (from 6:00 on)
        }
    }
}
