using Actors.Client.Api.Admin;
using Actors.Client.Api.Dashboard;
using Actors.Grains.Fleet;

namespace Actors.Silo.Tests.Dashboard;

/// <summary>The dashboard's alerts follow deploy/prometheus/alerts.yml as Prometheus would: pending
/// until the condition has held for the rule's <c>for:</c>, then firing; a condition that stops
/// holding starts over; a firing critical hides its warning.</summary>
public sealed class DashboardAlertsTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 23, 9, 0, 0, TimeSpan.Zero);

    private static FleetView Fleet(DateTimeOffset now, int freeDepth = 0, double proWait = 0, string downHealth = "ok", decimal spent = 0, PoolEvent[]? alerts = null)
    {
        var pool = new PoolView(new PoolSettings(false, "seed", 1, 4, null, "RTX_A4000", "local"), now, spent, 0.5m, [], alerts ?? [], new Dictionary<Actors.Grains.Tenants.Tier, DateTimeOffset>());
        var instance = new InstanceView("i-001", "RTX_A4000", "HOT", now, 10, downHealth, downHealth == "ok" ? null : "missed its heartbeats", null, [], 0, 0.5m, "local", null, null,
            new Dictionary<string, double>(), null);
        TierQueueView[] queues = [new("free", freeDepth, freeDepth > 0 ? 5 : 0, false), new("premium", 0, 0, false), new("pro", proWait > 0 ? 1 : 0, proWait, false), new("enterprise", 0, 0, false)];
        return new FleetView(now, pool, [instance], queues);
    }

    private static string[] Shown(IReadOnlyList<DashboardAlert> alerts) => [.. alerts.Select(a => $"{a.Name}:{a.State}")];

    [Fact]
    public void QueueDepthIsPendingForTwoMinutesThenFiresAndStartsOverWhenItDrains()
    {
        var clock = new TestClock(Start);
        var alerts = new DashboardAlerts(clock);
        Assert.Empty(alerts.Evaluate(Fleet(clock.Now, freeDepth: 10))); // not above 10

        var first = alerts.Evaluate(Fleet(clock.Now, freeDepth: 11));
        Assert.Equal(["QueueDepthHigh:pending"], Shown(first));
        Assert.Equal((Start, 120d), (first[0].Since, first[0].ForSeconds));

        clock.Now = Start.AddSeconds(119);
        Assert.Equal(["QueueDepthHigh:pending"], Shown(alerts.Evaluate(Fleet(clock.Now, freeDepth: 12))));
        clock.Now = Start.AddSeconds(120);
        var firing = alerts.Evaluate(Fleet(clock.Now, freeDepth: 12));
        Assert.Equal(["QueueDepthHigh:firing"], Shown(firing));
        Assert.Equal(Start, firing[0].Since);

        // Drained for one evaluation: the next rise waits its two minutes again.
        clock.Now = Start.AddSeconds(125);
        Assert.Empty(alerts.Evaluate(Fleet(clock.Now, freeDepth: 3)));
        clock.Now = Start.AddSeconds(130);
        Assert.Equal(["QueueDepthHigh:pending"], Shown(alerts.Evaluate(Fleet(clock.Now, freeDepth: 15))));
    }

    [Fact]
    public void AFiringCriticalHidesItsWarningButAPendingOneDoesNot()
    {
        var clock = new TestClock(Start);
        var alerts = new DashboardAlerts(clock);
        Assert.Equal(["QueueDepthHigh:pending"], Shown(alerts.Evaluate(Fleet(clock.Now, freeDepth: 20))));
        clock.Now = Start.AddSeconds(60);
        Assert.Equal(["QueueDepthCritical:pending", "QueueDepthHigh:pending"], Shown(alerts.Evaluate(Fleet(clock.Now, freeDepth: 40)))); // critical first
        clock.Now = Start.AddSeconds(120);
        Assert.Equal(["QueueDepthHigh:firing", "QueueDepthCritical:pending"], Shown(alerts.Evaluate(Fleet(clock.Now, freeDepth: 40))));
        clock.Now = Start.AddSeconds(180);
        Assert.Equal(["QueueDepthCritical:firing"], Shown(alerts.Evaluate(Fleet(clock.Now, freeDepth: 40))));
    }

    [Fact]
    public void ProWaitAndInstanceDownWaitAMinuteDailyCostAndPoolAlertsFireAtOnce()
    {
        var clock = new TestClock(Start);
        var alerts = new DashboardAlerts(clock);
        var capHit = new PoolEvent(Start.AddSeconds(-30), "budget_cap", null, "daily budget $10.00 reached");
        var fleet = Fleet(clock.Now, proWait: 31, downHealth: "down", spent: 20.5m, alerts: [capHit]);
        var now = alerts.Evaluate(fleet);
        Assert.Equal(["BudgetCapReached:firing", "DailyCostHigh:firing", "InstanceDown:pending", "ProWaitHigh:pending"], Shown(now).Order());
        Assert.Equal(capHit.At, now.Single(a => a.Name == "BudgetCapReached").Since); // when the pool raised it
        Assert.Contains("i-001", now.Single(a => a.Name == "InstanceDown").Summary, StringComparison.Ordinal);
        Assert.Equal("firing", now[0].State); // firing ones first

        clock.Now = Start.AddSeconds(60);
        Assert.Equal(["BudgetCapReached:firing", "DailyCostCritical:firing", "InstanceDown:firing", "ProWaitCritical:pending", "ProWaitHigh:firing"],
            Shown(alerts.Evaluate(Fleet(clock.Now, proWait: 61, downHealth: "down", spent: 31m, alerts: [capHit]))).Order());

        // The pool's alert is shown for ten minutes after it was raised.
        clock.Now = capHit.At.AddMinutes(10);
        Assert.DoesNotContain("BudgetCapReached:firing", Shown(alerts.Evaluate(Fleet(clock.Now, alerts: [capHit]))));
    }
}
