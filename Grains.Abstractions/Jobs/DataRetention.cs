namespace Actors.Grains.Jobs;

/// <summary>How long a plan's data is kept, by class (section <c>Billing:Plans:{id}:Retention</c>).
/// Defaults from the seeds: raw inputs 7 days (seed 001 deletes scans after processing), outputs
/// 30 days (seed 001 keeps results 30 days), cached results 30 days after their last use (seed 002).</summary>
[GenerateSerializer(GenerateFieldIds = GenerateFieldIds.PublicProperties), Immutable]
public sealed record DataRetention
{
    [Id(1108651819U)]
    public double InputDays { get; init; } = 7;

    [Id(2956869946U)]
    public double OutputDays { get; init; } = 30;

    [Id(1962943116U)]
    public double CacheDays { get; init; } = 30;

    public TimeSpan Input => TimeSpan.FromDays(InputDays);

    public TimeSpan Output => TimeSpan.FromDays(OutputDays);

    public TimeSpan Cache => TimeSpan.FromDays(CacheDays);

    /// <summary>Null when every class is kept a positive time, at most ten years.</summary>
    public string? Problem() =>
        new[] { InputDays, OutputDays, CacheDays }.All(d => double.IsFinite(d) && d > 0 && d <= 3650)
            ? null
            : "retention days must be positive (at most 3650)";
}
