using Actors.Fleet.Policies;
using static Actors.Fleet.Tests.Snapshots;

namespace Actors.Fleet.Tests;

/// <summary>Seed 000's GPU-by-load rule over the seed policy: what it rents follows the measured load.</summary>
public sealed class GpuByLoadPolicyTests
{
    private static readonly GpuByLoadPolicy Policy = new(new SeedPolicy());

    [Theory]
    [InlineData(5, "rtx-a4000")]     // < 10 jobs/h
    [InlineData(50, "rtx-4090")]     // < 100 jobs/h
    [InlineData(400, "rtx-a6000")]   // < 500 jobs/h
    [InlineData(5000, "rtx-a6000")]  // above: several A6000s
    public void RentsTheGpuTheSeedPicksForTheMeasuredLoad(double jobsPerHour, string expected)
    {
        var s = Of([Hot("p"), Hot("b")], Queues(depth: 31, ratePerSecond: jobsPerHour / 3600));
        var rent = Assert.Single(Policy.Decide(s).Actions.OfType<RentAction>());
        Assert.Equal(expected, rent.GpuType);
        Assert.Contains("seed 000", rent.Reason, StringComparison.Ordinal);
        Assert.Equal("seed-by-load", Policy.Name);
    }

    [Fact]
    public void KeepsThePoolsTypeWhenTheProviderDoesNotOfferTheSeedsPick()
    {
        var s = Of([Hot("p"), Hot("b")], Queues(depth: 31, ratePerSecond: 400.0 / 3600)) with { PriceList = [new("local", 0.22m, 0.05m, false)], GpuType = "local" };
        Assert.Equal("local", Assert.Single(Policy.Decide(s).Actions.OfType<RentAction>()).GpuType);
    }
}
