using System.Globalization;
using System.Text.Json;
using Actors.Grains.Jobs;
using Microsoft.AspNetCore.Http;

namespace Actors.Client.Api.Jobs;

/// <summary>The one contract for a job's parameters, whichever encoding carries them: the same
/// names, types and ranges from a JSON <c>parameters</c> object, from multipart form fields and
/// from the GPU host's query string. Nothing is coerced (2.7 is not a step count, 1e30 is not a
/// seed), an unknown name is a 422 that names it (and the name it probably meant), a value out of
/// range is a 422 that gives the range.</summary>
internal static class JobParameterContract
{
    /// <summary>One parameter: its name, what it takes (for messages and OpenAPI), how to read
    /// it from JSON and from text, and where it goes.</summary>
    private sealed record Field(string Name, string Takes, Func<JsonElement, object?> FromJson, Func<string, object?> FromText,
        Func<JobParameters, object, JobParameters> Apply);

    public const int MaxSteps = 1000;
    public const int MaxPromptLength = 200;
    public const double MaxGuidance = 100;

    private static readonly Field[] Fields =
    [
        new("shape", "1 to 4 positive integers ([C, H, W] of raw float32 input; \"C,H,W\" as text)", ShapeFromJson, ShapeFromText,
            (p, v) => p with { Shape = (long[])v }),
        new("spacingXMm", $"a number of millimetres, {Inference.PhysicalSpacing.Range}", e => Millimetres(e.GetDouble()), t => Millimetres(Double(t)),
            (p, v) => p with { SpacingXMm = (double)v }),
        new("spacingYMm", $"a number of millimetres, {Inference.PhysicalSpacing.Range} (default: spacingXMm)", e => Millimetres(e.GetDouble()),
            t => Millimetres(Double(t)), (p, v) => p with { SpacingYMm = (double)v }),
        new("sliceThicknessMm", $"a number of millimetres, {Inference.PhysicalSpacing.Range}", e => Millimetres(e.GetDouble()), t => Millimetres(Double(t)),
            (p, v) => p with { SliceThicknessMm = (double)v }),
        new("steps", $"an integer from 1 to {MaxSteps} (the model may allow fewer)", e => Steps(e.TryGetInt64(out var n) ? n : throw Wrong()),
            t => Steps(Integer(t)), (p, v) => p with { Steps = (int)v }),
        new("seed", "an integer (64-bit)", e => e.TryGetInt64(out var n) ? n : throw Wrong(), t => Integer(t), (p, v) => p with { Seed = (long)v }),
        new("prompt", $"a text of 1 to {MaxPromptLength} characters: one of the model's labels, e.g. \"red circle\"",
            e => Prompt(e.ValueKind == JsonValueKind.String ? e.GetString()! : throw Wrong()), t => Prompt(t), (p, v) => p with { Prompt = (string)v }),
        new("guidance", $"a number from 0 to {MaxGuidance} (the model may allow less)", e => Guidance(e.GetDouble()), t => Guidance(Double(t)),
            (p, v) => p with { Guidance = (double)v }),
    ];

    /// <summary>Names an older client may send, and the parameter each meant.</summary>
    private static readonly Dictionary<string, string> Renamed = new(StringComparer.OrdinalIgnoreCase)
    {
        ["spacingX"] = "spacingXMm", ["spacingY"] = "spacingYMm", ["sliceThickness"] = "sliceThicknessMm", ["spacing"] = "spacingXMm",
    };

    /// <summary>Every parameter with what it takes, for documentation and OpenAPI.</summary>
    public static IReadOnlyList<(string Name, string Takes)> Describe() => Fields.Select(f => (f.Name, f.Takes)).ToList();

    public static IReadOnlySet<string> Names { get; } = Fields.Select(f => f.Name).ToHashSet(StringComparer.Ordinal);

    /// <summary>From a JSON object (the <c>parameters</c> of a JSON job).</summary>
    public static JobParameters FromJson(JsonElement parameters)
    {
        if (parameters.ValueKind == JsonValueKind.Null)
        {
            return new JobParameters();
        }

        if (parameters.ValueKind != JsonValueKind.Object)
        {
            throw Bad("parameters", "'parameters' must be a JSON object");
        }

        RefuseUnknown(parameters.EnumerateObject().Select(p => p.Name), "parameters");
        var values = new List<(Field, object)>();
        foreach (var property in parameters.EnumerateObject())
        {
            var field = Fields.Single(f => f.Name == property.Name);
            if (property.Value.ValueKind == JsonValueKind.Null)
            {
                continue;
            }

            values.Add((field, Read(field, () => field.FromJson(property.Value), property.Value.GetRawText())));
        }

        return Build(values);
    }

    /// <summary>From text fields (multipart form fields, a query string); <paramref name="known"/>
    /// are the other names the caller reads itself (model, webhookUrl, …).</summary>
    public static JobParameters FromText(IReadOnlyDictionary<string, string> fields, IReadOnlySet<string> known, string where)
    {
        RefuseUnknown(fields.Keys.Where(k => !known.Contains(k)), where);
        var values = new List<(Field, object)>();
        foreach (var field in Fields)
        {
            if (fields.TryGetValue(field.Name, out var text))
            {
                values.Add((field, Read(field, () => field.FromText(text.Trim()), text)));
            }
        }

        return Build(values);
    }

    /// <summary>A 422 naming every unknown field, with the name each probably meant.</summary>
    public static void RefuseUnknown(IEnumerable<string> names, string where, IReadOnlySet<string>? allowed = null)
    {
        var unknown = names.Where(n => !(allowed ?? Names).Contains(n)).Distinct(StringComparer.Ordinal).ToList();
        if (unknown.Count == 0)
        {
            return;
        }

        var hints = unknown.Select(n => Meant(n, allowed ?? Names) is { } m ? $"'{n}' (did you mean '{m}'?)" : $"'{n}'");
        var e = new SubmissionException(StatusCodes.Status422UnprocessableEntity, "unknown_fields",
            $"unknown field(s) in {where}: {string.Join(", ", hints)}; known: {string.Join(", ", (allowed ?? Names).Order(StringComparer.Ordinal))}");
        e.Extensions["fields"] = unknown;
        throw e;
    }

    private static string? Meant(string name, IReadOnlySet<string> allowed) =>
        Renamed.TryGetValue(name, out var renamed) && allowed.Contains(renamed) ? renamed
        : allowed.FirstOrDefault(a => string.Equals(a, name, StringComparison.OrdinalIgnoreCase));

    private static JobParameters Build(List<(Field Field, object Value)> values)
    {
        var parameters = new JobParameters();
        foreach (var (field, value) in values)
        {
            parameters = field.Apply(parameters, value);
        }

        // Square pixels unless told otherwise.
        return values.Any(v => v.Field.Name == "spacingXMm") && !values.Any(v => v.Field.Name == "spacingYMm")
            ? parameters with { SpacingYMm = parameters.SpacingXMm }
            : parameters;
    }

    private static object Read(Field field, Func<object?> read, string raw)
    {
        try
        {
            return read() ?? throw Wrong();
        }
        catch (Exception e) when (e is FormatException or InvalidOperationException or OverflowException)
        {
            var shown = raw.Length > 64 ? raw[..64] + "…" : raw;
            throw Bad(field.Name, $"'{field.Name}' takes {field.Takes}; got {shown}");
        }
    }

    private static FormatException Wrong() => new("wrong type or range");

    private static double Millimetres(double value) => Inference.PhysicalSpacing.IsValid(value) ? value : throw Wrong();

    private static string Prompt(string text) =>
        text.Trim() is { Length: > 0 and <= MaxPromptLength } trimmed && !trimmed.Any(char.IsControl) ? trimmed : throw Wrong();

    private static double Guidance(double value) => double.IsFinite(value) && value is >= 0 and <= MaxGuidance ? value : throw Wrong();

    private static int Steps(long value) => value is >= 1 and <= MaxSteps ? (int)value : throw Wrong();

    private static double Double(string text) =>
        double.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out var v)
            ? v : throw Wrong();

    private static long Integer(string text) =>
        long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) ? v : throw Wrong();

    private static long[] ShapeFromJson(JsonElement e) =>
        Shape(e.ValueKind == JsonValueKind.Array ? e.EnumerateArray().Select(d => d.TryGetInt64(out var n) ? n : throw Wrong()).ToArray() : throw Wrong());

    private static long[] ShapeFromText(string text) =>
        Shape(text.Split(',', StringSplitOptions.TrimEntries).Select(d => long.TryParse(d, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : throw Wrong()).ToArray());

    private static long[] Shape(long[] dims) =>
        dims.Length is >= 1 and <= 4 && dims.All(d => d is > 0 and <= 1_000_000) ? dims : throw Wrong();

    /// <summary>A 422 <c>bad_parameter</c> naming the field.</summary>
    internal static SubmissionException Bad(string field, string detail)
    {
        var e = new SubmissionException(StatusCodes.Status422UnprocessableEntity, "bad_parameter", detail);
        e.Extensions["field"] = field;
        return e;
    }
}
