using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Actors.Fleet.Planning;
using Actors.Fleet.Policies;
using Actors.Fleet.Simulation;
using Actors.Grains.Fleet;
using Actors.Grains.Tenants;
using Spectre.Console;

namespace Actors.Silo.Commands;

/// <summary><c>silo plan</c> and <c>silo simulate</c>: the capacity planner and the fleet
/// simulator on the command line (tables on the terminal, <c>--json</c> for machines).</summary>
internal static class FleetCommands
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public static Command Plan()
    {
        var json = new Option<bool>("--json") { Description = "Print JSON instead of tables" };
        var wait = new Option<double>("--p95-wait") { Description = "p95 wait target in seconds (queueing mode)", DefaultValueFactory = _ => 5 };
        var interval = new Option<double>("--upload-interval") { Description = "Seconds between one user's uploads", DefaultValueFactory = _ => 30 };
        var command = new Command("plan", "Capacity planner: seed arithmetic (seeds 000 and 003) and Erlang C queueing") { json, wait, interval };
        command.SetAction(parse =>
        {
            var p95 = parse.GetValue(wait);
            var every = parse.GetValue(interval);
            if (!(p95 > 0) || !(every > 0) || !double.IsFinite(p95) || !double.IsFinite(every))
            {
                Console.Error.WriteLine("plan: --p95-wait and --upload-interval must be positive numbers");
                return 2;
            }

            var report = CapacityReport.Build(new PlannerInputs { P95WaitSeconds = p95, UploadIntervalSeconds = every });
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(report, Json));
            }
            else
            {
                PrintPlan(report);
            }

            return 0;
        });
        return command;
    }

    public static Command Simulate()
    {
        var trace = new Option<string>("--trace") { Description = "A generated month — 'standard', 'shifted' (its peak 3 h earlier from day 15) or 'viral' (day 20 at 10× for 6 h) — or a CSV file of 'seconds,tier'", DefaultValueFactory = _ => "standard" };
        var days = new Option<double>("--days") { Description = "Days of generated trace", DefaultValueFactory = _ => 30 };
        var rate = new Option<double>("--mean-per-hour") { Description = "Mean jobs per hour of the generated trace", DefaultValueFactory = _ => 250 };
        var peak = new Option<double>("--peak") { Description = "Daily peak as a multiple of the mean (3–5)", DefaultValueFactory = _ => 4 };
        var policies = new Option<string>("--policies") { Description = "Comma-separated: seed, slo, forecast, each also -by-load", DefaultValueFactory = _ => "seed,slo,forecast" };
        var service = new Option<double>("--service-seconds") { Description = "Mean seconds per job on one instance", DefaultValueFactory = _ => 5.5 };
        var budget = new Option<decimal?>("--budget") { Description = "Daily budget cap in $ (none by default)" };
        var maxInstances = new Option<int>("--max-instances") { DefaultValueFactory = _ => 8 };
        var minHot = new Option<int?>("--min-hot") { Description = "HOT instances always held (default: 1 for seed and slo, which keep a primary; 0 for forecast, which scales to zero)" };
        var chart = new Option<string?>("--chart") { Description = "Write an SVG of queue depth and instances by state here" };
        var chartDays = new Option<double?>("--chart-days") { Description = "Only the first N days in the chart" };
        var saveTrace = new Option<string?>("--save-trace") { Description = "Write the trace used as CSV here" };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 42 };
        var timeline = new Option<string?>("--timeline") { Description = "Write every policy's timeline (queue depth, instances by state, cost) as CSV here" };
        var json = new Option<bool>("--json") { Description = "Print JSON instead of tables" };
        var noBound = new Option<bool>("--no-bound") { Description = "Skip the perfect-knowledge lower bound" };
        var preemptions = new Option<double?>("--preemptions-per-hour") { Description = "Spot preemptions per HOT hour at the simulated cloud (default 0.01)" };
        var onDemandTiers = new Option<string?>("--on-demand-tiers") { Description = "Comma-separated tiers whose jobs must not run on spot machines (forecast policies hold on-demand capacity for them; seed and slo run everything on the pool's GPU)" };
        var command = new Command("simulate", "Run autoscaling policies against a simulated provider in virtual time")
        {
            trace, days, rate, peak, policies, service, budget, maxInstances, minHot, chart, chartDays, saveTrace, seed, timeline, json, noBound, preemptions, onDemandTiers,
        };
        command.SetAction(parse =>
        {
            var names = parse.GetValue(policies)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var onDemand = new HashSet<Tier>();
            foreach (var tierName in (parse.GetValue(onDemandTiers) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (!Enum.TryParse<Tier>(tierName, ignoreCase: true, out var tier) || !Enum.IsDefined(tier) || int.TryParse(tierName, out _))
                {
                    Console.Error.WriteLine($"simulate: unknown tier '{tierName}' in --on-demand-tiers ({string.Join(", ", Enum.GetNames<Tier>())})");
                    return 2;
                }

                onDemand.Add(tier);
            }

            var chosen = new List<IPoolPolicy>();
            foreach (var name in names)
            {
                if (PoolPolicies.Create(name, onDemandTiers: onDemand) is not { } policy)
                {
                    Console.Error.WriteLine($"simulate: unknown policy '{name}' ({string.Join(", ", PoolSettings.Policies)})");
                    return 2;
                }

                chosen.Add(policy);
            }

            var limits = new PoolLimits { MinHot = parse.GetValue(minHot) ?? 1, MaxInstances = parse.GetValue(maxInstances), DailyBudgetUsd = parse.GetValue(budget) };
            var serviceSeconds = parse.GetValue(service);
            if (chosen.Count == 0 || limits.MinHot < 0 || limits.MaxInstances < 1 || !(serviceSeconds > 0) || limits.DailyBudgetUsd < 0)
            {
                Console.Error.WriteLine("simulate: need at least one policy, --min-hot ≥ 0, --max-instances ≥ 1, --service-seconds > 0, --budget ≥ 0");
                return 2;
            }

            IReadOnlyList<Arrival> arrivals;
            var source = parse.GetValue(trace)!;
            try
            {
                if (TraceOptions.Named(source) is { } named)
                {
                    var options = named with { Days = parse.GetValue(days), MeanPerHour = parse.GetValue(rate), PeakFactor = parse.GetValue(peak), Seed = parse.GetValue(seed) };
                    arrivals = Trace.Generate(options);
                }
                else
                {
                    using var reader = File.OpenText(source);
                    arrivals = Trace.ReadCsv(reader);
                }
            }
            catch (Exception e) when (e is FormatException or IOException or ArgumentException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"simulate: cannot use trace '{source}': {e.Message}");
                return 2;
            }

            if (parse.GetValue(saveTrace) is { } save)
            {
                using var writer = File.CreateText(save);
                Trace.WriteCsv(arrivals, writer);
            }

            var sim = new SimulationOptions { ServiceSeconds = serviceSeconds, Limits = limits, Seed = parse.GetValue(seed) };
            if (parse.GetValue(preemptions) is { } perHour)
            {
                if (!(perHour >= 0) || !double.IsFinite(perHour))
                {
                    Console.Error.WriteLine("simulate: --preemptions-per-hour must be ≥ 0");
                    return 2;
                }

                sim = sim with { Provider = sim.Provider with { SpotPreemptionsPerHour = perHour } };
            }

            var quiet = parse.GetValue(json);
            if (!quiet)
            {
                Console.WriteLine($"simulate: {arrivals.Count:N0} jobs over {(arrivals.Count == 0 ? 0 : arrivals[^1].AtSeconds / 86400):0.#} days, policies {string.Join(", ", chosen.Select(p => p.Name))}");
            }

            static bool Forecasts(IPoolPolicy p) => p.Name.StartsWith("forecast", StringComparison.Ordinal);
            PoolLimits LimitsOf(IPoolPolicy p) => parse.GetValue(minHot) is null && Forecasts(p) ? limits with { MinHot = 0 } : limits;
            var results = chosen.Select(p => RunWithProgress(arrivals, p, sim with { Limits = LimitsOf(p), OnDemandTiers = Forecasts(p) ? onDemand : new HashSet<Tier>() }, quiet)).ToList();
            if (parse.GetValue(chart) is { } svg)
            {
                File.WriteAllText(svg, TimelineChart.Render(results, parse.GetValue(chartDays) * 24));
            }

            if (parse.GetValue(timeline) is { } csv)
            {
                using var writer = File.CreateText(csv);
                writer.WriteLine("policy,hours,queue_depth,renting,warm,starting,hot,serving,cost_usd");
                foreach (var r in results)
                {
                    foreach (var p in r.Timeline)
                    {
                        writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{r.Policy},{p.Hours:0.###},{p.QueueDepth},{p.Renting},{p.Warm},{p.Starting},{p.Hot},{p.Serving},{p.CostUsd}"));
                    }
                }
            }

            BoundResult? bound = null;
            if (!parse.GetValue(noBound))
            {
                var exempt = BoundExemptions(arrivals, results.FirstOrDefault(r => r.Policy == "seed"));
                var boundOptions = BoundOptions.From(sim, exempt);
                bound = quiet ? LowerBound.Compute(arrivals, boundOptions) : RunBoundWithProgress(arrivals, boundOptions);
            }

            if (quiet)
            {
                Console.WriteLine(JsonSerializer.Serialize(new { policies = results.Select(r => r with { Timeline = [] }), bound, goal = Goal(results, bound) }, Json));
            }
            else
            {
                PrintSimulation(results, bound);
                if (parse.GetValue(chart) is { } path)
                {
                    Console.WriteLine($"chart: {path}");
                }
            }

            return 0;
        });
        return command;
    }

    private static SimulationResult RunWithProgress(IReadOnlyList<Arrival> arrivals, IPoolPolicy policy, SimulationOptions options, bool quiet)
    {
        if (quiet)
        {
            return Simulator.Run(arrivals, policy, options);
        }

        if (Console.IsOutputRedirected || !AnsiConsole.Profile.Capabilities.Interactive)
        {
            var last = -10;
            return Simulator.Run(arrivals, policy, options, new SyncProgress(p =>
            {
                var percent = (int)(p * 100);
                if (percent >= last + 10)
                {
                    last = percent - percent % 10;
                    Console.WriteLine($"  {policy.Name}: {last}% of virtual time");
                }
            }));
        }

        SimulationResult? result = null;
        AnsiConsole.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn()).Start(ctx =>
        {
            var task = ctx.AddTask($"{policy.Name} policy", maxValue: 1);
            result = Simulator.Run(arrivals, policy, options, new SyncProgress(p => task.Value = p));
        });
        return result!;
    }

    private static void PrintPlan(CapacityReport r)
    {
        var t = new Table().Title("Seed 000 — capacity per GPU (seed arithmetic)").AddColumns("GPU", "$/h", "items/h", "items/day", "users (100 % busy)", "$ per item");
        foreach (var row in r.Summary)
        {
            t.AddRow(row.Gpu, $"{row.HourlyUsd:0.000}", $"{row.PerHour:N0}", $"{row.PerDay:N0}", $"{row.ConcurrentUsers:0.#}", $"{row.CostPerItemUsd:0.00000}");
        }

        AnsiConsole.Write(t);
        t = new Table().Title("Seed 000 — clinic scenarios").AddColumns("scenario", "items/day", "GPU", "hours/day", "$/day", "$ per item", "overcapacity", "hours needed");
        foreach (var c in r.Clinics)
        {
            t.AddRow(c.Name, $"{c.ItemsPerDay:N0}", $"{c.Instances}× {c.Gpu}", $"{c.HoursPerDay:0}", $"{c.DailyCostUsd:0.00}", $"{c.CostPerItemUsd:0.0000}", $"{c.Overcapacity:N0}×", $"{c.HoursNeeded:0.00}");
        }

        AnsiConsole.Write(t);
        t = new Table().Title("Seed 003 — cost per image by utilisation (1 HOT spot RTX 4090, $0.40/h, ~150k images/month)").AddColumns("utilisation", "images/month", "instances", "$/month", "$ per image");
        foreach (var u in r.Utilisation)
        {
            t.AddRow($"{u.Utilisation:P0}", $"{u.ImagesPerMonth:N0}", $"{u.Instances}", $"{u.CostPerMonthUsd:N0}", $"{u.CostPerImageUsd:0.000}");
        }

        AnsiConsole.Write(t);
        t = new Table().Title("Seed 003 — monthly scenarios (HOT $0.40/h, WARM $0.05–0.10/h)").AddColumns("scenario", "HOT", "WARM", "$/month", "capacity/month");
        foreach (var m in r.Monthly)
        {
            t.AddRow(m.Name, $"{m.Hot}", $"{m.Warm}", $"{m.LowUsd:N0}–{m.HighUsd:N0}", $"{m.CapacityPerMonth:N0}");
        }

        AnsiConsole.Write(t);
        t = new Table().Title($"Queueing (Erlang C) — users served with p95 wait ≤ {r.P95WaitSeconds:0.#} s, one upload per {r.UploadIntervalSeconds:0} s").AddColumns("GPU", "instances", "seed's users", "users at target", "utilisation", "items/h", "$ per item", "p95 wait at seed's users");
        foreach (var q in r.Queueing)
        {
            t.AddRow(q.Gpu, $"{q.Instances}", $"{q.SeedUsers:0.#}", $"{q.UsersAtTarget:0.#}", $"{q.Utilisation:P0}", $"{q.PerHourAtTarget:N0}", $"{q.CostPerItemAtTarget:0.00000}", q.P95WaitAtSeedUsersSeconds is { } w ? $"{w:0.#} s" : "∞ (100 % busy)");
        }

        AnsiConsole.Write(t);
        t = new Table().Title("GPU per clinic size (peak = 4× the daily mean rate)").AddColumns("scenario", "peak items/h", "seed 000 rule", "cheapest at the p95 target");
        foreach (var g in r.Choices)
        {
            t.AddRow(g.Scenario, $"{g.PeakPerHour:N0}", g.SeedRule, g.Cheapest);
        }

        AnsiConsole.Write(t);
    }

    /// <summary>What the bound may leave unmet: 5 % of each tier with a p95 target, and of Free what
    /// the seed policy refused or let expire (5 % without a seed run).</summary>
    private static Dictionary<Tier, int> BoundExemptions(IReadOnlyList<Arrival> arrivals, SimulationResult? seed) =>
        Enum.GetValues<Tier>().ToDictionary(t => t, t =>
            t == Tier.Free && seed is not null ? seed.Tier(Tier.Free).Refused + seed.Tier(Tier.Free).Expired
            : (int)Math.Floor(0.05 * arrivals.Count(a => a.Tier == t)));

    private static BoundResult RunBoundWithProgress(IReadOnlyList<Arrival> arrivals, BoundOptions options)
    {
        var last = -25;
        return LowerBound.Compute(arrivals, options, new SyncProgress(p =>
        {
            var percent = (int)(p * 100);
            if (percent >= last + 25)
            {
                last = percent - percent % 25;
                Console.WriteLine($"  perfect-knowledge bound: {last}% of the search");
            }
        }));
    }

    /// <summary>The goal (issue 32): the cheapest policy meeting every tier's target — Pro and
    /// Enterprise p95 ≤ 30 s, Premium p95 ≤ 120 s, Free refused + expired no more than the seed
    /// policy's — at least 40 % cheaper than the seed policy and within 15 % of the bound.</summary>
    internal static GoalReport? Goal(IReadOnlyList<SimulationResult> results, BoundResult? bound)
    {
        var seed = results.FirstOrDefault(r => r.Policy == "seed");
        if (seed is null || seed.TotalCostUsd <= 0)
        {
            return null;
        }

        var seedFree = seed.Tier(Tier.Free).Refused + seed.Tier(Tier.Free).Expired;
        bool Meets(SimulationResult r) => r.Tier(Tier.Pro).P95Seconds <= 30 && r.Tier(Tier.Enterprise).P95Seconds <= 30
            && r.Tier(Tier.Premium).P95Seconds <= 120 && r.Tier(Tier.Free).Refused + r.Tier(Tier.Free).Expired <= seedFree;
        var best = results.Where(r => r.Policy != "seed" && Meets(r)).OrderBy(r => r.TotalCostUsd).FirstOrDefault();
        if (best is null)
        {
            return new GoalReport(null, 0, null, false);
        }

        var saving = 1 - best.TotalCostUsd / seed.TotalCostUsd;
        var gap = bound is { CostUsd: > 0 } b ? best.TotalCostUsd / b.CostUsd - 1 : (decimal?)null;
        return new GoalReport(best.Policy, Math.Round(saving, 4), gap is { } g ? Math.Round(g, 4) : null, saving >= 0.40m && gap is { } x && x <= 0.15m);
    }

    internal sealed record GoalReport(string? Policy, decimal SavingVsSeed, decimal? GapToBound, bool Met);

    private static void PrintSimulation(IReadOnlyList<SimulationResult> results, BoundResult? bound)
    {
        var t = new Table().Title("Simulation").AddColumn("");
        foreach (var r in results)
        {
            t.AddColumn(new TableColumn(r.Policy).RightAligned());
        }

        void Row(string name, Func<SimulationResult, string> value) => t.AddRow([name, .. results.Select(value)]);
        Row("total cost", r => $"${r.TotalCostUsd:N2}");
        Row("cost per job", r => $"${r.CostPerJobUsd:0.00000}");
        Row("jobs served", r => $"{r.Served:N0}");
        Row("max spend in a day", r => $"${r.MaxDailySpendUsd:N2}");
        foreach (var tier in Enum.GetValues<Tier>().Reverse())
        {
            Row($"{tier} wait p50 / p95 / p99", r => { var s = r.Tier(tier); return $"{s.P50Seconds:0.0} / {s.P95Seconds:0.0} / {s.P99Seconds:0.0} s"; });
            Row($"{tier} refused / expired", r => { var s = r.Tier(tier); return $"{s.Refused:N0} / {s.Expired:N0}"; });
            Row($"{tier} from zero: jobs, wait p50 / max", r => { var s = r.Tier(tier); return s.FromZero == 0 ? "–" : $"{s.FromZero:N0}, {s.FromZeroP50Seconds:0} / {s.FromZeroMaxSeconds:0} s"; });
        }

        foreach (var state in new[] { "renting", "warm", "starting", "hot", "serving" })
        {
            Row($"instance-hours {state}", r => $"{r.InstanceHours.GetValueOrDefault(state):N1}");
        }

        Row("max instances", r => $"{r.MaxInstances}");
        Row("rent / resume / stop / release", r => $"{r.Actions.GetValueOrDefault("rent")} / {r.Actions.GetValueOrDefault("resume")} / {r.Actions.GetValueOrDefault("stop")} / {r.Actions.GetValueOrDefault("release")}");
        Row("GPU types rented", r => string.Join(", ", r.Actions.Where(a => a.Key.StartsWith("rented:", StringComparison.Ordinal))
            .OrderByDescending(a => a.Value).Select(a => $"{a.Key["rented:".Length..]} ×{a.Value}")) is { Length: > 0 } types ? types : "–");
        Row("jobs on spot machines (Ent / Pro / Prem / Free)", r => string.Join(" / ", Enum.GetValues<Tier>().Reverse().Select(t => $"{r.Tier(t).OnSpot:N0}")));
        Row("work lost to stops and preemptions", r => $"{r.LostWorkSeconds / 3600:0.00} instance-h ({r.Actions.GetValueOrDefault("jobs requeued")} jobs run again)");
        Row("failures / preemptions", r => $"{r.Actions.Where(a => a.Key.StartsWith("failed", StringComparison.Ordinal) || a.Key.Contains("refused", StringComparison.Ordinal)).Sum(a => a.Value)} / {r.Actions.GetValueOrDefault("preempted")}");
        Row("wall time", r => $"{r.WallTime.TotalSeconds:0.0} s ({r.Events:N0} events)");
        if (bound is not null)
        {
            Row("above the perfect-knowledge bound", r => bound.CostUsd > 0 ? $"{r.TotalCostUsd / bound.CostUsd - 1:P0}" : "–");
        }

        AnsiConsole.Write(t);
        if (bound is not null)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"perfect-knowledge bound: ${bound.CostUsd:N2} (no schedule meeting the targets costs less; {bound.HotHours:N0} HOT instance-hours at the cheapest price per throughput, {bound.Starts:N0} starts, {bound.Exempted:N0} jobs left to the p95 allowance; λ = ${bound.Lambda:0.0000} per exempted job, {bound.Evaluations} solves, {bound.WallTime.TotalSeconds:0.0} s)"));
        }

        if (Goal(results, bound) is { } goal)
        {
            Console.WriteLine(goal.Policy is null
                ? "goal (best policy: Pro and Enterprise p95 ≤ 30 s, Premium p95 ≤ 120 s, Free refusals ≤ seed's, ≥ 40 % cheaper than seed, within 15 % of the bound): no policy meets every tier's target → NOT met"
                : string.Create(CultureInfo.InvariantCulture,
                    $"goal (best policy: Pro and Enterprise p95 ≤ 30 s, Premium p95 ≤ 120 s, Free refusals ≤ seed's, ≥ 40 % cheaper than seed, within 15 % of the bound): {goal.Policy}, {goal.SavingVsSeed:P1} cheaper than seed, {(goal.GapToBound is { } g ? $"{g:P0} above the bound" : "no bound")} → {(goal.Met ? "met" : "NOT met")}"));
        }
    }

    /// <summary>IProgress that reports on the calling thread (Progress&lt;T&gt; posts to the pool).</summary>
    private sealed class SyncProgress(Action<double> report) : IProgress<double>
    {
        public void Report(double value) => report(value);
    }
}
