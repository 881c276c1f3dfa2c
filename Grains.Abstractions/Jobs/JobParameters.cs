using System.Globalization;
using System.Text;

namespace Actors.Grains.Jobs;

/// <summary>A job's model parameters, as the client gave them (validated by the API against the
/// model's task). <see cref="Canonical"/> is their stable text for the result-cache key.</summary>
[GenerateSerializer(GenerateFieldIds = GenerateFieldIds.PublicProperties), Immutable]
public sealed record JobParameters
{
    /// <summary>Raw float32 input: its shape.</summary>
    [Id(100539739U)]
    public IReadOnlyList<long>? Shape { get; init; }

    [Id(2986789586U)]
    public double SpacingXMm { get; init; } = 1.0;

    [Id(1049746890U)]
    public double SpacingYMm { get; init; } = 1.0;

    [Id(1192536239U)]
    public double? SliceThicknessMm { get; init; }

    [Id(4289874470U)]
    public int? Steps { get; init; }

    [Id(3476053788U)]
    public long Seed { get; init; }

    /// <summary>Diffusion: the label asked for (as the client wrote it; the model names it).</summary>
    [Id(1039831049U)]
    public string? Prompt { get; init; }

    /// <summary>Diffusion: classifier-free guidance scale.</summary>
    [Id(2938890350U)]
    public double? Guidance { get; init; }

    public string Canonical()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"shape={(Shape is null ? "" : string.Join(',', Shape))};");
        text.Append(CultureInfo.InvariantCulture, $"sx={SpacingXMm:R};sy={SpacingYMm:R};st={SliceThicknessMm?.ToString("R", CultureInfo.InvariantCulture)};");
        text.Append(CultureInfo.InvariantCulture, $"steps={Steps};seed={Seed}");
        // Only when given, so the keys of jobs without them stay what they were. The prompt is
        // matched to a label case- and space-insensitively: its key is that normal form, quoted
        // so no prompt can look like another field.
        if (Prompt is not null)
        {
            var normal = string.Join(' ', Prompt.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)).ToLowerInvariant();
            text.Append(CultureInfo.InvariantCulture, $";prompt={System.Text.Json.JsonSerializer.Serialize(normal)}");
        }

        if (Guidance is not null)
        {
            text.Append(CultureInfo.InvariantCulture, $";guidance={Guidance:R}");
        }

        return text.ToString();
    }

    public bool Equals(JobParameters? other) =>
        other is not null && Canonical() == other.Canonical();

    public override int GetHashCode() => Canonical().GetHashCode(StringComparison.Ordinal);
}
