using Actors.Grains.Instances;
using FsCheck;
using FsCheck.Fluent;

namespace Actors.Grains.Tests.Instances;

public sealed class InstanceLifecycleTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 22, 9, 0, 0, TimeSpan.Zero);
    private static readonly HourlyRates Rtx4090 = new(0m, 0.08m, 0.40m, 0.40m);

    [Fact]
    public void CostIsEachStatesRateTimesItsTime()
    {
        var r = InstanceLifecycle.Close(new InstanceRecord { Rates = Rtx4090 }, T0);
        r = InstanceLifecycle.Move(r, InstanceState.Warm, T0.AddMinutes(45));   // 45 min cold: $0
        r = InstanceLifecycle.Move(r, InstanceState.Hot, T0.AddMinutes(75));    // 30 min warm: $0.04
        r = InstanceLifecycle.Move(r, InstanceState.Serving, T0.AddMinutes(105)); // 30 min hot: $0.20

        var snapshot = InstanceLifecycle.Snapshot("i1", r, T0.AddMinutes(165)); // 60 min serving: $0.40

        Assert.Equal(0.64m, snapshot.AccruedUsd);
        Assert.Equal(TimeSpan.FromMinutes(60), snapshot.TimeInState[InstanceState.Serving]);
        Assert.Equal(InstanceState.Serving, snapshot.State);
    }

    [Theory]
    [InlineData(InstanceState.Cold, InstanceState.Hot)]
    [InlineData(InstanceState.Cold, InstanceState.Serving)]
    [InlineData(InstanceState.Warm, InstanceState.Serving)]
    [InlineData(InstanceState.Serving, InstanceState.Warm)]
    [InlineData(InstanceState.Hot, InstanceState.Cold)]
    [InlineData(InstanceState.Hot, InstanceState.Hot)]
    public void SkippingAStateIsRejected(InstanceState from, InstanceState to)
    {
        var record = new InstanceRecord { State = from, Since = T0 };
        var e = Assert.Throws<InvalidTransitionException>(() => InstanceLifecycle.Move(record, to, T0.AddMinutes(1)));
        Assert.Equal((from.ToString(), to.ToString()), (e.From, e.To));
    }

    /// <summary>On a provider that cannot stop, COLD → HOT → COLD and no WARM either way.</summary>
    [Fact]
    public void AnInstanceThatCannotStopGoesStraightBetweenColdAndHot()
    {
        var cold = new InstanceRecord { State = InstanceState.Cold, Since = T0, CannotStop = true, Rates = new HourlyRates(0, 0.4m, 0.4m, 0.4m) };
        var hot = InstanceLifecycle.Move(cold, InstanceState.Hot, T0.AddMinutes(5));
        var serving = InstanceLifecycle.Move(hot, InstanceState.Serving, T0.AddMinutes(10));
        var gone = InstanceLifecycle.MoveTo(serving, InstanceState.Cold, T0.AddMinutes(65));
        Assert.Equal(InstanceState.Cold, gone.State);
        Assert.DoesNotContain(InstanceState.Warm, gone.ClosedSeconds.Keys);
        Assert.Equal(0.4m, gone.ClosedCostUsd); // one running hour (COLD bills nothing)

        Assert.Throws<InvalidTransitionException>(() => InstanceLifecycle.Move(cold, InstanceState.Warm, T0));
        Assert.Throws<InvalidTransitionException>(() => InstanceLifecycle.Move(hot, InstanceState.Warm, T0));
        Assert.Equal(InstanceState.Hot, InstanceLifecycle.MoveTo(cold, InstanceState.Hot, T0).State);
    }

    [Fact]
    public void OnAnyWalkTheCostEqualsTheSumOfRateTimesDurationAndNeverDecreases()
    {
        Prop.ForAll(Gen.Choose(1, 7200).ArrayOf().ToArbitrary(), durations =>
        {
            var r = InstanceLifecycle.Close(new InstanceRecord { Rates = Rtx4090 }, T0);
            var now = T0;
            var expected = 0m;
            var last = 0m;
            foreach (var seconds in durations)
            {
                now = now.AddSeconds(seconds);
                expected += Rtx4090.For(r.State) * seconds / 3600m;
                var next = r.State switch
                {
                    InstanceState.Cold => InstanceState.Warm,
                    InstanceState.Warm => seconds % 2 == 0 ? InstanceState.Hot : InstanceState.Cold,
                    InstanceState.Hot => seconds % 2 == 0 ? InstanceState.Serving : InstanceState.Warm,
                    _ => InstanceState.Hot,
                };
                r = InstanceLifecycle.Move(r, next, now);
                var accrued = InstanceLifecycle.Snapshot("i", r, now).AccruedUsd;
                if (accrued < last || Math.Abs(accrued - Math.Round(expected, 6)) > 0.000001m)
                {
                    return false;
                }

                last = accrued;
            }

            return true;
        }).QuickCheckThrowOnFailure();
    }
}
