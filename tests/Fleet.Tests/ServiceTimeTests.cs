using Actors.Fleet.Policies;

namespace Actors.Fleet.Tests;

public sealed class ServiceTimeTests
{
    [Fact]
    public void NoSampleUntilEnoughJobsThenTheRatioThenSmoothed()
    {
        var t = new ServiceTime().Add(5, 10);
        Assert.Null(t.Seconds);
        Assert.Equal(7.5, t.Or(7.5));

        t = t.Add(15, ServiceTime.MinJobs - 10); // 20 s over 20 jobs
        Assert.Equal(1.0, t.Seconds);
        Assert.Equal(ServiceTime.MinJobs, t.Jobs);
        Assert.Equal((0.0, 0L), (t.PendingServingSeconds, t.PendingJobs));

        t = t.Add(60, 20); // 3 s a job: moves 30 % of the way
        Assert.Equal(1.6, t.Seconds!.Value, 9);
        Assert.Equal(40, t.Jobs);
    }

    [Fact]
    public void JobsWithoutServingTimeWaitForSomeAndBadInputThrows()
    {
        var t = new ServiceTime().Add(0, 50); // SERVING not seen (too short for the busy reports)
        Assert.Null(t.Seconds);
        Assert.Equal(2.0 / 52, t.Add(2, 2).Seconds!.Value, 9);
        Assert.Throws<ArgumentOutOfRangeException>(() => t.Add(-1, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => t.Add(double.NaN, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => t.Add(1, -1));
    }
}
