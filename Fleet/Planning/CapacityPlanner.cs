using Actors.Fleet.Queueing;

namespace Actors.Fleet.Planning;

/// <summary>A GPU as the planner sees it: seconds per item, how many items a batch runs in the
/// time of one (seed 000: RTX 4090 "2–3 at once" → 1.2 effective, A6000 "4–6" → 2.0), the share
/// of time lost to API, database and network, and its price.</summary>
public sealed record GpuProfile(string Name, double ServiceSeconds, double BatchFactor, double Overhead, decimal HourlyUsd)
{
    /// <summary>Items per hour at 100 % busy: 3,600 / service × batch × (1 − overhead).</summary>
    public double PerHour => 3600 / ServiceSeconds * BatchFactor * (1 - Overhead);

    /// <summary>Effective service rate per second (one instance as one server).</summary>
    public double PerSecond => PerHour / 3600;

    /// <summary>The price-list name of a seed GPU: "RTX A4000" → "rtx-a4000".</summary>
    public static string Slug(string seedName) => seedName.ToLowerInvariant().Replace(' ', '-');

    /// <summary>Whether a price-list GPU type is this GPU: its slug, or its slug with a suffix
    /// ("rtx-4090-spot").</summary>
    public static bool IsType(string seedName, string gpuType) =>
        gpuType.Equals(Slug(seedName), StringComparison.OrdinalIgnoreCase)
        || gpuType.StartsWith(Slug(seedName) + "-", StringComparison.OrdinalIgnoreCase);

    /// <summary>Seed 000's profile of a price-list GPU type, if it has one.</summary>
    public static GpuProfile? ForType(string gpuType) => Seed000.FirstOrDefault(p => IsType(p.Name, gpuType));

    /// <summary>Seed 000's three GPUs with its assumptions (2.5 s / 2.0 s, 20 % overhead, TensorDock prices).</summary>
    public static IReadOnlyList<GpuProfile> Seed000 { get; } =
    [
        new("RTX A4000", 2.5, 1.0, 0.20, 0.220m),
        new("RTX 4090", 2.0, 1.2, 0.20, 0.330m),
        new("RTX A6000", 2.0, 2.0, 0.20, 0.390m),
    ];
}

/// <summary>One row of seed 000's summary table.</summary>
public sealed record CapacityRow(string Gpu, decimal HourlyUsd, double PerHour, double PerDay, double ConcurrentUsers, decimal CostPerItemUsd);

/// <summary>One clinic scenario: volume per day, the GPU and hours per day it runs, what that costs.</summary>
public sealed record ClinicScenario(string Name, double ItemsPerDay, string Gpu, int Instances, double HoursPerDay, decimal DailyCostUsd, decimal CostPerItemUsd, double Overcapacity, double HoursNeeded);

/// <summary>Seed 003's "cost per image at different utilisation" row.</summary>
public sealed record UtilisationRow(double Utilisation, double ImagesPerMonth, int Instances, decimal CostPerMonthUsd, decimal CostPerImageUsd);

/// <summary>Seed 003's monthly scenarios: HOT and WARM instances held all month.</summary>
public sealed record MonthlyScenario(string Name, int Hot, int Warm, decimal LowUsd, decimal HighUsd, double CapacityPerMonth);

/// <summary>Queueing view of one GPU: how many users it serves with the p95 wait within a target,
/// beside the seed's figure (which is the 100 %-busy rate). The p95 wait at the seed's users is
/// null when that load leaves the queue unstable (it grows without bound).</summary>
public sealed record QueueingRow(string Gpu, int Instances, double SeedUsers, double UsersAtTarget, double Utilisation, double PerHourAtTarget, decimal CostPerItemAtTarget, double? P95WaitAtSeedUsersSeconds);

public sealed record PlannerInputs
{
    public IReadOnlyList<GpuProfile> Gpus { get; init; } = GpuProfile.Seed000;

    /// <summary>A user uploads once every this many seconds while active (seed 000: 30 s).</summary>
    public double UploadIntervalSeconds { get; init; } = 30;

    /// <summary>The p95 wait a user accepts (seed 003: "users expect &lt; 5 s").</summary>
    public double P95WaitSeconds { get; init; } = 5;

    /// <summary>Seed 003: RTX 4090 spot $0.40/h, ~150k images a month per HOT instance, WARM $0.05–0.10/h.</summary>
    public decimal Seed003HotPerHour { get; init; } = 0.40m;

    public double Seed003CapacityPerMonth { get; init; } = 150_000;

    public decimal Seed003WarmLow { get; init; } = 0.05m;

    public decimal Seed003WarmHigh { get; init; } = 0.10m;
}

/// <summary>The capacity planner: seed arithmetic (reproduces seeds 000 and 003 from their own
/// assumptions) and queueing (Erlang C: what a GPU carries at a p95 wait target).</summary>
public static class CapacityPlanner
{
    public const double HoursPerMonth = 24 * 30;

    public static CapacityRow Row(GpuProfile gpu, double uploadIntervalSeconds = 30)
    {
        var perHour = gpu.PerHour;
        return new CapacityRow(gpu.Name, gpu.HourlyUsd, perHour, perHour * 24, perHour / (3600 / uploadIntervalSeconds), gpu.HourlyUsd / (decimal)perHour);
    }

    public static IReadOnlyList<CapacityRow> SummaryTable(PlannerInputs inputs) =>
        inputs.Gpus.Select(g => Row(g, inputs.UploadIntervalSeconds)).ToList();

    /// <summary>Seed 000's clinic scenarios with the GPU and hours it chose, and the hours
    /// actually needed to process that volume.</summary>
    public static IReadOnlyList<ClinicScenario> ClinicScenarios(PlannerInputs inputs)
    {
        GpuProfile Gpu(string name) => inputs.Gpus.First(g => g.Name == name);
        ClinicScenario Make(string name, double perDay, string gpu, int instances, double hours)
        {
            var g = Gpu(gpu);
            var daily = g.HourlyUsd * instances * (decimal)hours;
            return new ClinicScenario(name, perDay, gpu, instances, hours, daily, daily / (decimal)perDay,
                g.PerHour * 24 * instances / perDay, perDay / (g.PerHour * instances));
        }

        return
        [
            Make("Small clinic", 10, "RTX A4000", 1, 1),
            Make("Medium clinic", 100, "RTX 4090", 1, 2),
            Make("Large hospital", 1000, "RTX A6000", 1, 8),
            Make("Enterprise / multi-hospital", 5000, "RTX A6000", 2, 24),
        ];
    }

    /// <summary>Seed 003's utilisation table: one HOT spot instance all month, a second once
    /// demand passes the first's capacity.</summary>
    public static IReadOnlyList<UtilisationRow> UtilisationTable(PlannerInputs inputs)
    {
        var perInstanceMonth = inputs.Seed003HotPerHour * (decimal)HoursPerMonth;
        return new[] { 0.10, 0.30, 0.50, 0.80, 200_000 / inputs.Seed003CapacityPerMonth }.Select(u =>
        {
            var images = u * inputs.Seed003CapacityPerMonth;
            var instances = (int)Math.Ceiling(images / inputs.Seed003CapacityPerMonth - 1e-9);
            var cost = perInstanceMonth * instances;
            return new UtilisationRow(u, images, instances, cost, cost / (decimal)images);
        }).ToList();
    }

    public static IReadOnlyList<MonthlyScenario> MonthlyScenarios(PlannerInputs inputs)
    {
        MonthlyScenario Make(string name, int hot, int warm) => new(name, hot, warm,
            (inputs.Seed003HotPerHour * hot + inputs.Seed003WarmLow * warm) * (decimal)HoursPerMonth,
            (inputs.Seed003HotPerHour * hot + inputs.Seed003WarmHigh * warm) * (decimal)HoursPerMonth,
            inputs.Seed003CapacityPerMonth * hot);
        return [Make("Minimal", 1, 0), Make("Standard", 1, 1), Make("Growth", 2, 1), Make("Scale", 3, 2)];
    }

    /// <summary>Per GPU and fleet size: users served with the p95 wait within the target, the
    /// utilisation that leaves, and the p95 wait at the seed's user count (its 100 % figure).</summary>
    public static IReadOnlyList<QueueingRow> Queueing(PlannerInputs inputs, IReadOnlyList<int>? fleetSizes = null)
    {
        var rows = new List<QueueingRow>();
        var perUserPerSecond = 1 / inputs.UploadIntervalSeconds;
        foreach (var gpu in inputs.Gpus)
        {
            foreach (var c in fleetSizes ?? [1, 2, 4])
            {
                var mu = gpu.PerSecond;
                var lambda = ErlangC.MaxArrivalFor(c, mu, inputs.P95WaitSeconds);
                var seedUsers = gpu.PerHour * c / (3600 * perUserPerSecond);
                var atSeed = ErlangC.WaitPercentile(c, seedUsers * perUserPerSecond, mu, 0.95);
                rows.Add(new QueueingRow(gpu.Name, c, seedUsers, lambda / perUserPerSecond, lambda / (c * mu), lambda * 3600,
                    gpu.HourlyUsd * c / (decimal)Math.Max(1e-9, lambda * 3600), double.IsFinite(atSeed) ? atSeed : null));
            }
        }

        return rows;
    }

    /// <summary>Seed 000's GPU choice by load (items per hour): &lt; 10 → A4000, 10–100 → RTX 4090,
    /// 100–500 → A6000, more → two A6000s (and more as needed).</summary>
    public static (string Gpu, int Instances) ChooseByLoad(double perHour) => perHour switch
    {
        < 10 => ("RTX A4000", 1),
        < 100 => ("RTX 4090", 1),
        < 500 => ("RTX A6000", 1),
        _ => ("RTX A6000", Math.Max(2, (int)Math.Ceiling(perHour / 2880.0))),
    };

    /// <summary>The cheapest GPU (and how many) whose fleet meets the p95 wait target for a
    /// clinic's peak rate; null when none does within 64 instances.</summary>
    public static (GpuProfile Gpu, int Instances, decimal HourlyUsd)? CheapestFor(PlannerInputs inputs, double peakPerHour)
    {
        (GpuProfile, int, decimal)? best = null;
        foreach (var gpu in inputs.Gpus)
        {
            if (ErlangC.ServersFor(peakPerHour / 3600, gpu.PerSecond, inputs.P95WaitSeconds, 0.95, 64) is { } c)
            {
                var cost = gpu.HourlyUsd * c;
                if (best is null || cost < best.Value.Item3)
                {
                    best = (gpu, c, cost);
                }
            }
        }

        return best;
    }
}
