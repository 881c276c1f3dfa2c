namespace Actors.Fleet.Planning;

/// <summary>A GPU pick for one clinic size: seed 000's rule by load, and the cheapest fleet that
/// meets the p95 wait target at the clinic's peak.</summary>
public sealed record GpuChoiceRow(string Scenario, double PeakPerHour, string SeedRule, string Cheapest);

/// <summary>Everything the planner prints, in one object (the CLI's tables, its --json, and
/// GET /admin/capacity).</summary>
public sealed record CapacityReport(
    double P95WaitSeconds,
    double UploadIntervalSeconds,
    IReadOnlyList<CapacityRow> Summary,
    IReadOnlyList<ClinicScenario> Clinics,
    IReadOnlyList<UtilisationRow> Utilisation,
    IReadOnlyList<MonthlyScenario> Monthly,
    IReadOnlyList<QueueingRow> Queueing,
    IReadOnlyList<GpuChoiceRow> Choices)
{
    /// <summary>Peak hourly rate as a multiple of the day's mean (seed 000: 3–5×).</summary>
    public const double PeakMultiplier = 4;

    public static CapacityReport Build(PlannerInputs inputs)
    {
        var clinics = CapacityPlanner.ClinicScenarios(inputs);
        var choices = clinics.Select(c =>
        {
            var peak = c.ItemsPerDay / 24 * PeakMultiplier;
            var (gpu, n) = CapacityPlanner.ChooseByLoad(peak);
            var cheapest = CapacityPlanner.CheapestFor(inputs, peak) is { } best
                ? $"{best.Instances}× {best.Gpu.Name} (${best.HourlyUsd:0.000}/h)"
                : "none within 64 instances";
            return new GpuChoiceRow(c.Name, peak, $"{n}× {gpu}", cheapest);
        }).ToList();
        return new CapacityReport(inputs.P95WaitSeconds, inputs.UploadIntervalSeconds, CapacityPlanner.SummaryTable(inputs), clinics,
            CapacityPlanner.UtilisationTable(inputs), CapacityPlanner.MonthlyScenarios(inputs), CapacityPlanner.Queueing(inputs), choices);
    }
}
