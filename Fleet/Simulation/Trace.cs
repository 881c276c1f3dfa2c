using System.Globalization;
using Actors.Grains.Tenants;

namespace Actors.Fleet.Simulation;

/// <summary>One job arriving: seconds after the trace's start, and its tenant's tier.</summary>
public readonly record struct Arrival(double AtSeconds, Tier Tier);

/// <summary>How a synthetic trace is made: Poisson arrivals whose rate follows a day (a smooth
/// peak <see cref="PeakFactor"/> × the mean at <see cref="PeakHourUtc"/>, seed 000's "peak
/// multiplier 3–5×"), bursts (a clinic uploading a study), and a tier mix.</summary>
public sealed record TraceOptions
{
    public double Days { get; init; } = 30;

    public double MeanPerHour { get; init; } = 250;

    public double PeakFactor { get; init; } = 4;

    public double PeakHourUtc { get; init; } = 14;

    public double BurstsPerDay { get; init; } = 3;

    public int BurstJobs { get; init; } = 40;

    public TimeSpan BurstSpread { get; init; } = TimeSpan.FromSeconds(60);

    public IReadOnlyDictionary<Tier, double> TierMix { get; init; } = new Dictionary<Tier, double>
    {
        [Tier.Free] = 0.50,
        [Tier.Premium] = 0.30,
        [Tier.Pro] = 0.15,
        [Tier.Enterprise] = 0.05,
    };

    public int Seed { get; init; } = 42;

    /// <summary>From <see cref="ShiftFromDay"/> on, the daily peak comes this many hours earlier
    /// (a customer base moving time zones, a new market): what a learned profile must unlearn.</summary>
    public double PeakShiftHours { get; init; }

    public double ShiftFromDay { get; init; } = 15;

    /// <summary>A viral day: on this day (0-based), from <see cref="ViralStartHourUtc"/> for
    /// <see cref="ViralHours"/>, arrivals are <see cref="ViralFactor"/> × the usual. Null: none.</summary>
    public int? ViralDay { get; init; }

    public double ViralFactor { get; init; } = 10;

    public double ViralStartHourUtc { get; init; } = 10;

    public double ViralHours { get; init; } = 6;

    /// <summary>The standard month with its peak three hours earlier from day 15 on.</summary>
    public static TraceOptions Shifted { get; } = new() { PeakShiftHours = 3, ShiftFromDay = 15 };

    /// <summary>The standard month with a viral day: day 20, 10× the usual from 10:00 to 16:00 UTC.</summary>
    public static TraceOptions ViralMonth { get; } = new() { ViralDay = 20 };

    /// <summary>A named month: "standard", "shifted" or "viral"; null for another name.</summary>
    public static TraceOptions? Named(string name) => name switch
    {
        "standard" => Standard,
        "shifted" => Shifted,
        "viral" => ViralMonth,
        _ => null,
    };

    /// <summary>The rate multiplier at <paramref name="seconds"/> into the trace (mean 1 on an ordinary day).</summary>
    internal double Multiplier(double seconds, DiurnalShape usual, DiurnalShape shifted)
    {
        var day = seconds / 86400;
        var m = (PeakShiftHours != 0 && day >= ShiftFromDay ? shifted : usual).At(seconds);
        if (ViralDay is { } v && (int)Math.Floor(day) == v)
        {
            var hour = seconds / 3600 % 24;
            if (hour >= ViralStartHourUtc && hour < ViralStartHourUtc + ViralHours)
            {
                m *= ViralFactor;
            }
        }

        return m;
    }

    internal double MaxMultiplier => PeakFactor * (ViralDay is null ? 1 : Math.Max(1, ViralFactor));

    /// <summary>The standard month: 30 days, 250 jobs/h on average, a 4× afternoon peak, three
    /// bursts of 40 a day, half Free, 30 % Premium, 15 % Pro, 5 % Enterprise.</summary>
    public static TraceOptions Standard { get; } = new();
}

public static class Trace
{
    /// <summary>Arrivals in time order (non-homogeneous Poisson by thinning, deterministic per seed).</summary>
    public static IReadOnlyList<Arrival> Generate(TraceOptions o)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(o.Days);
        ArgumentOutOfRangeException.ThrowIfNegative(o.MeanPerHour);
        ArgumentOutOfRangeException.ThrowIfLessThan(o.PeakFactor, 1.0);
        var random = new Random(o.Seed);
        var shape = new DiurnalShape(o.PeakFactor, o.PeakHourUtc);
        var shifted = new DiurnalShape(o.PeakFactor, o.PeakHourUtc - o.PeakShiftHours);
        var end = o.Days * 86400;
        var maxPerSecond = o.MeanPerHour * o.MaxMultiplier / 3600;
        var list = new List<Arrival>((int)(o.MeanPerHour * o.Days * 24 * 1.1) + 16);
        if (maxPerSecond > 0)
        {
            for (var t = Exp(random, maxPerSecond); t < end; t += Exp(random, maxPerSecond))
            {
                if (random.NextDouble() * o.MaxMultiplier < o.Multiplier(t, shape, shifted))
                {
                    list.Add(new Arrival(t, PickTier(random, o.TierMix)));
                }
            }
        }

        var bursts = (int)Math.Round(o.BurstsPerDay * o.Days);
        for (var b = 0; b < bursts; b++)
        {
            var at = random.NextDouble() * end;
            var tier = PickTier(random, o.TierMix);
            for (var j = 0; j < o.BurstJobs; j++)
            {
                list.Add(new Arrival(Math.Min(end, at + random.NextDouble() * o.BurstSpread.TotalSeconds), tier));
            }
        }

        list.Sort((a, b) => a.AtSeconds.CompareTo(b.AtSeconds));
        return list;
    }

    /// <summary>Reads "seconds,tier" lines (a header line is skipped; tier by name or number).</summary>
    public static IReadOnlyList<Arrival> ReadCsv(TextReader reader)
    {
        var list = new List<Arrival>();
        var line = 0;
        while (reader.ReadLine() is { } text)
        {
            line++;
            if (string.IsNullOrWhiteSpace(text) || text.StartsWith('#'))
            {
                continue;
            }

            var parts = text.Split(',', StringSplitOptions.TrimEntries);
            if (parts.Length < 2 || !double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var at))
            {
                if (line == 1)
                {
                    continue;
                }

                throw new FormatException($"trace line {line}: expected 'seconds,tier', got '{text}'");
            }

            if (!Enum.TryParse<Tier>(parts[1], ignoreCase: true, out var tier) || !Enum.IsDefined(tier) || at < 0 || !double.IsFinite(at))
            {
                throw new FormatException($"trace line {line}: bad time or tier in '{text}'");
            }

            list.Add(new Arrival(at, tier));
        }

        list.Sort((a, b) => a.AtSeconds.CompareTo(b.AtSeconds));
        return list;
    }

    public static void WriteCsv(IEnumerable<Arrival> arrivals, TextWriter writer)
    {
        writer.WriteLine("seconds,tier");
        foreach (var a in arrivals)
        {
            writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{a.AtSeconds:0.###},{a.Tier.ToString().ToLowerInvariant()}"));
        }
    }

    private static double Exp(Random random, double rate) => -Math.Log(1 - random.NextDouble()) / rate;

    private static Tier PickTier(Random random, IReadOnlyDictionary<Tier, double> mix)
    {
        var total = mix.Values.Sum();
        var x = random.NextDouble() * total;
        foreach (var (tier, weight) in mix.OrderBy(kv => kv.Key))
        {
            x -= weight;
            if (x < 0)
            {
                return tier;
            }
        }

        return mix.Keys.Max();
    }
}

/// <summary>A day-long rate multiplier with mean 1 and maximum <c>peak</c>: a von Mises bump
/// e^(κ cos(2π(h − peakHour)/24)) / I0(κ), κ solved so that its maximum is the peak factor.</summary>
public sealed class DiurnalShape
{
    private readonly double _kappa;
    private readonly double _norm;
    private readonly double _peakHour;

    public DiurnalShape(double peak, double peakHour)
    {
        _peakHour = peakHour;
        double lo = 0, hi = 50;
        for (var i = 0; i < 200 && peak > 1; i++)
        {
            var mid = (lo + hi) / 2;
            if (Math.Exp(mid) / BesselI0(mid) < peak)
            {
                lo = mid;
            }
            else
            {
                hi = mid;
            }
        }

        _kappa = peak > 1 ? lo : 0;
        _norm = BesselI0(_kappa);
    }

    /// <summary>The multiplier at <paramref name="seconds"/> after a UTC midnight.</summary>
    public double At(double seconds)
    {
        var hour = seconds / 3600 % 24;
        return Math.Exp(_kappa * Math.Cos(2 * Math.PI * (hour - _peakHour) / 24)) / _norm;
    }

    private static double BesselI0(double x)
    {
        // Σ ((x/2)^k / k!)^2, enough terms for x ≤ 50.
        double sum = 1, term = 1;
        for (var k = 1; k < 500; k++)
        {
            term *= x / 2 / k;
            sum += term * term;
            if (term * term < sum * 1e-17)
            {
                break;
            }
        }

        return sum;
    }
}
