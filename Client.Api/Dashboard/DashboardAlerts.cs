using Actors.Client.Api.Admin;

namespace Actors.Client.Api.Dashboard;

/// <summary>One rule of deploy/prometheus/alerts.yml as the dashboard applies it: its name,
/// severity and how long its condition must hold (<c>for:</c>) before it fires.</summary>
internal sealed record DashboardAlertRule(string Name, string Severity, TimeSpan For);

/// <summary>The dashboard's alerts, raised the way Prometheus raises deploy/prometheus/alerts.yml:
/// a condition true now is <c>pending</c> until it has held for the rule's <c>for:</c>, then
/// <c>firing</c>; a condition that stops holding is forgotten (it starts over). A firing critical
/// hides the warning of the same family (queue depth, Pro wait, daily cost), as Alertmanager's
/// inhibition would. The conditions are read from the fleet as it is now; the time each one
/// began is kept by this silo, sampled in the background so it runs while no one watches.</summary>
internal sealed class DashboardAlerts(TimeProvider time)
{
    /// <summary>The rules, with the <c>for:</c> of alerts.yml (daily cost has none there; the
    /// autoscaler's own alerts are events, shown for 10 minutes).</summary>
    internal static readonly IReadOnlyDictionary<string, DashboardAlertRule> Rules = new[]
    {
        new DashboardAlertRule("QueueDepthHigh", "warning", TimeSpan.FromMinutes(2)),
        new DashboardAlertRule("QueueDepthCritical", "critical", TimeSpan.FromMinutes(2)),
        new DashboardAlertRule("ProWaitHigh", "warning", TimeSpan.FromMinutes(1)),
        new DashboardAlertRule("ProWaitCritical", "critical", TimeSpan.FromMinutes(1)),
        new DashboardAlertRule("InstanceDegraded", "warning", TimeSpan.FromMinutes(1)),
        new DashboardAlertRule("InstanceDown", "critical", TimeSpan.FromMinutes(1)),
        new DashboardAlertRule("DailyCostHigh", "warning", TimeSpan.Zero),
        new DashboardAlertRule("DailyCostCritical", "critical", TimeSpan.Zero),
        new DashboardAlertRule("BudgetCapReached", "warning", TimeSpan.Zero),
        new DashboardAlertRule("MaxInstancesReached", "warning", TimeSpan.Zero),
    }.ToDictionary(r => r.Name);

    private static readonly (string Warning, string Critical)[] Families =
        [("QueueDepthHigh", "QueueDepthCritical"), ("ProWaitHigh", "ProWaitCritical"), ("DailyCostHigh", "DailyCostCritical")];

    private readonly Dictionary<(string Name, string Subject), DateTimeOffset> _since = [];
    private readonly Lock _lock = new();

    /// <summary>Evaluates the rules on <paramref name="fleet"/>: pending and firing alerts, firing first.</summary>
    internal IReadOnlyList<DashboardAlert> Evaluate(FleetView fleet)
    {
        var now = time.GetUtcNow();
        var holding = Conditions(fleet, now);
        var alerts = new List<DashboardAlert>(holding.Count);
        lock (_lock)
        {
            foreach (var gone in _since.Keys.Where(k => !holding.Exists(c => (c.Name, c.Subject) == k)).ToList())
            {
                _since.Remove(gone);
            }

            foreach (var (name, subject, summary, at) in holding)
            {
                var rule = Rules[name];
                if (!_since.TryGetValue((name, subject), out var since))
                {
                    since = at ?? now;
                    _since[(name, subject)] = since;
                }

                var firing = now - since >= rule.For;
                alerts.Add(new DashboardAlert(name, rule.Severity, summary, firing ? "firing" : "pending", since, rule.For.TotalSeconds));
            }
        }

        alerts.RemoveAll(a => a.Severity == "warning"
            && Families.Any(f => f.Warning == a.Name && alerts.Exists(c => c.Name == f.Critical && c.State == "firing")));
        return [.. alerts.OrderBy(a => a.State == "firing" ? 0 : 1).ThenBy(a => a.Severity == "critical" ? 0 : 1).ThenBy(a => a.Since)];
    }

    /// <summary>The seed 003 conditions that hold now: (rule, subject, what the operator reads,
    /// when it began where the fleet says so).</summary>
    internal static List<(string Name, string Subject, string Summary, DateTimeOffset? At)> Conditions(FleetView fleet, DateTimeOffset now)
    {
        var holding = new List<(string, string, string, DateTimeOffset?)>();
        var depth = fleet.Queues.Sum(q => q.Depth);
        if (depth > 10)
        {
            holding.Add(("QueueDepthHigh", "", $"{depth} jobs waiting (> 10)", null));
        }

        if (depth > 30)
        {
            holding.Add(("QueueDepthCritical", "", $"{depth} jobs waiting (> 30)", null));
        }

        var pro = fleet.Queues.Where(q => q.Tier is "pro" or "enterprise").Select(q => q.OldestWaitSeconds).DefaultIfEmpty(0).Max();
        if (pro > 30)
        {
            holding.Add(("ProWaitHigh", "", $"a Pro/Enterprise job has waited {pro:0} s (> 30 s)", null));
        }

        if (pro > 60)
        {
            holding.Add(("ProWaitCritical", "", $"a Pro/Enterprise job has waited {pro:0} s (> 60 s)", null));
        }

        foreach (var instance in fleet.Instances.Where(i => i.State != "COLD" || i.Pending is not null))
        {
            if (instance.Health == "down")
            {
                holding.Add(("InstanceDown", instance.Id, $"{instance.Id}: {instance.HealthReason}", null));
            }
            else if (instance.Health == "degraded")
            {
                holding.Add(("InstanceDegraded", instance.Id, $"{instance.Id}: {instance.HealthReason}", null));
            }
        }

        var spent = fleet.Pool.SpentTodayUsd;
        if (spent > 20)
        {
            holding.Add(("DailyCostHigh", "", $"${spent:0.00} spent today (> $20)", null));
        }

        if (spent > 30)
        {
            holding.Add(("DailyCostCritical", "", $"${spent:0.00} spent today (> $30)", null));
        }

        foreach (var alert in fleet.Pool.Alerts.Where(a => now - a.At < TimeSpan.FromMinutes(10)))
        {
            holding.Add((alert.Kind == "budget_cap" ? "BudgetCapReached" : "MaxInstancesReached", $"{alert.At:O}", alert.Reason, alert.At));
        }

        return holding;
    }
}
