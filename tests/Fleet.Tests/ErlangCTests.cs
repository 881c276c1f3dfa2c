using Actors.Fleet.Queueing;

namespace Actors.Fleet.Tests;

public sealed class ErlangCTests
{
    [Theory]
    // One server: P(wait) is the utilisation.
    [InlineData(1, 0.5, 0.5)]
    [InlineData(1, 0.9, 0.9)]
    // Closed forms: c = 2, a = 1 → 1/3; c = 3, a = 2 → 4/9.
    [InlineData(2, 1.0, 1.0 / 3)]
    [InlineData(3, 2.0, 4.0 / 9)]
    // Call-centre tables (and the direct factorial formula): 10 Erlangs on 11 agents → 0.6821;
    // on 13 → 0.2853; 20 on 25 → 0.2091.
    [InlineData(11, 10.0, 0.6821)]
    [InlineData(13, 10.0, 0.2853)]
    [InlineData(25, 20.0, 0.2091)]
    public void ProbabilityOfWaitingMatchesTextbookValues(int servers, double erlangs, double expected) =>
        Assert.Equal(expected, ErlangC.ProbabilityOfWaiting(servers, erlangs), 3);

    [Fact]
    public void UnstableOrIdleQueuesAreTheEdges()
    {
        Assert.Equal(1, ErlangC.ProbabilityOfWaiting(2, 2.0));
        Assert.Equal(0, ErlangC.ProbabilityOfWaiting(2, 0));
        Assert.True(double.IsPositiveInfinity(ErlangC.WaitPercentile(1, 1.0, 1.0, 0.95)));
    }

    [Fact]
    public void MeanWaitOfMm1IsRhoOverMuMinusLambda()
    {
        // M/M/1, λ = 0.8, μ = 1: Wq = ρ / (μ − λ) = 4 s.
        Assert.Equal(4.0, ErlangC.MeanWait(1, 0.8, 1.0), 6);
    }

    [Fact]
    public void PercentileWaitInvertsTheTail()
    {
        var p95 = ErlangC.WaitPercentile(3, 2.0, 1.0, 0.95);
        Assert.Equal(0.05, ErlangC.ProbabilityWaitExceeds(3, 2.0, 1.0, p95), 6);
        // Already below the tail: no wait at the 95th percentile.
        Assert.Equal(0, ErlangC.WaitPercentile(10, 1.0, 1.0, 0.95));
    }

    [Fact]
    public void ServersForIsTheFewestThatMeetTheTarget()
    {
        var c = ErlangC.ServersFor(10, 1, targetSeconds: 0.5)!.Value;
        Assert.True(ErlangC.WaitPercentile(c, 10, 1, 0.95) <= 0.5);
        Assert.True(ErlangC.WaitPercentile(c - 1, 10, 1, 0.95) > 0.5);
        var rate = ErlangC.MaxArrivalFor(2, 1, 5);
        Assert.Equal(5, ErlangC.WaitPercentile(2, rate, 1, 0.95), 2);
    }
}
