using Actors.Fleet.Planning;

namespace Actors.Fleet.Tests;

public sealed class PlannerTests
{
    private static readonly PlannerInputs Seeds = new();

    [Theory]
    [InlineData("RTX A4000", 1152, 27648, 9.6, 0.00019)]
    [InlineData("RTX 4090", 1728, 41472, 14.4, 0.00019)]
    [InlineData("RTX A6000", 2880, 69120, 24.0, 0.00014)]
    public void SeedArithmeticReproducesSeed000sSummaryTable(string gpu, double perHour, double perDay, double users, double costPerItem)
    {
        var row = CapacityPlanner.SummaryTable(Seeds).Single(r => r.Gpu == gpu);
        Assert.Equal(perHour, row.PerHour, 6);
        Assert.Equal(perDay, row.PerDay, 6);
        Assert.Equal(users, row.ConcurrentUsers, 6);
        Assert.Equal((decimal)costPerItem, Math.Round(row.CostPerItemUsd, 5));
    }

    [Fact]
    public void ClinicScenariosMatchSeed000()
    {
        var rows = CapacityPlanner.ClinicScenarios(Seeds);
        Assert.Equal([0.22m, 0.66m, 3.12m, 18.72m], rows.Select(r => r.DailyCostUsd));
        Assert.Equal([0.022m, 0.0066m, 0.0031m, 0.0037m], rows.Select(r => Math.Round(r.CostPerItemUsd, r.CostPerItemUsd < 0.01m ? 4 : 3)));
        Assert.Equal(2765, Math.Round(rows[0].Overcapacity));
    }

    [Fact]
    public void UtilisationTableMatchesSeed003()
    {
        var rows = CapacityPlanner.UtilisationTable(Seeds);
        Assert.Equal([15_000d, 45_000, 75_000, 120_000, 200_000], rows.Select(r => Math.Round(r.ImagesPerMonth)));
        Assert.Equal([0.019m, 0.006m, 0.004m, 0.002m, 0.003m], rows.Select(r => Math.Round(r.CostPerImageUsd, 3)));
        Assert.Equal([1, 1, 1, 1, 2], rows.Select(r => r.Instances));
        // Seed 003 says "~$290" for $0.40/h all month, and $580 with a second instance.
        Assert.Equal([288m, 288m, 288m, 288m, 576m], rows.Select(r => r.CostPerMonthUsd));
    }

    [Fact]
    public void QueueingShowsWhereTheSeedsFullUtilisationBreaks()
    {
        foreach (var row in CapacityPlanner.Queueing(Seeds))
        {
            Assert.True(row.UsersAtTarget < row.SeedUsers, $"{row.Gpu}×{row.Instances}: {row.UsersAtTarget} ≥ {row.SeedUsers}");
            Assert.Null(row.P95WaitAtSeedUsersSeconds); // the seed's users keep the GPU 100 % busy
            Assert.InRange(row.Utilisation, 0.01, 0.99);
        }

        // More instances share the queue: utilisation at the same target goes up.
        var a6000 = CapacityPlanner.Queueing(Seeds).Where(r => r.Gpu == "RTX A6000").OrderBy(r => r.Instances).ToList();
        Assert.True(a6000[0].Utilisation < a6000[1].Utilisation && a6000[1].Utilisation < a6000[2].Utilisation);
    }

    [Theory]
    [InlineData(5, "RTX A4000", 1)]
    [InlineData(50, "RTX 4090", 1)]
    [InlineData(300, "RTX A6000", 1)]
    [InlineData(600, "RTX A6000", 2)]
    public void GpuChoiceByLoadFollowsSeed000(double perHour, string gpu, int instances) =>
        Assert.Equal((gpu, instances), CapacityPlanner.ChooseByLoad(perHour));
}
