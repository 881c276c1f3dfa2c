using Actors.Grains.Tenants;

namespace Actors.Fleet.Policies;

/// <summary>Arrivals by time of day and time of week, learned from what the pool measured: each
/// hour's mean arrival rate is folded into its hour-of-day bin and its hour-of-week bin when the
/// hour ends, half weight to the newest day (or week), so a profile follows a shifted pattern
/// within two or three days. Immutable; kept in the pool's memory (its stored state), so it
/// survives restarts. A bin never seen is -1.</summary>
public sealed record DemandProfile
{
    /// <summary>Weight of the newest observation of a bin.</summary>
    public const double NewWeight = 0.5;

    /// <summary>Mean jobs per second in each hour of the day (UTC).</summary>
    public double[] ByDayHour { get; init; } = Unknown(24);

    /// <summary>Mean jobs per second in each hour of the week (Monday 00:00 UTC = 0).</summary>
    public double[] ByWeekHour { get; init; } = Unknown(168);

    /// <summary>Each tier's share of arrivals (Free, Premium, Pro, Enterprise), smoothed.</summary>
    public double[] TierShare { get; init; } = [0.25, 0.25, 0.25, 0.25];

    /// <summary>The hour of the week being measured now (-1 before the first tick).</summary>
    public int Hour { get; init; } = -1;

    public double HourRateSum { get; init; }

    public int HourTicks { get; init; }

    /// <summary>Full days learned (every hour-of-day bin seen).</summary>
    public bool KnowsDay => ByDayHour.All(r => r >= 0);

    public bool KnowsWeek => ByWeekHour.All(r => r >= 0);

    public static int WeekHour(DateTimeOffset t)
    {
        var u = t.UtcDateTime;
        return ((int)u.DayOfWeek + 6) % 7 * 24 + u.Hour;
    }

    /// <summary>A profile learned from recorded arrivals (the jobs table): every whole hour from the
    /// first recorded one up to the hour before <paramref name="now"/> is folded in, oldest first,
    /// as if the pool had measured it (an hour with no jobs counts as none, an hour before the
    /// first is not known).</summary>
    public static DemandProfile From(IEnumerable<(long Hour, int Tier, long Count)> arrivals, DateTimeOffset now)
    {
        var byHour = arrivals.GroupBy(a => a.Hour).ToDictionary(g => g.Key, g => g.ToList());
        var profile = new DemandProfile();
        if (byHour.Count == 0)
        {
            return profile;
        }

        var current = now.ToUnixTimeSeconds() / 3600;
        var day = (double[])profile.ByDayHour.Clone();
        var week = (double[])profile.ByWeekHour.Clone();
        var tiers = new double[4];
        for (var hour = byHour.Keys.Min(); hour < current; hour++)
        {
            var rows = byHour.GetValueOrDefault(hour) ?? [];
            var rate = rows.Sum(r => r.Count) / 3600.0;
            var at = DateTimeOffset.FromUnixTimeSeconds(hour * 3600);
            day[at.UtcDateTime.Hour] = Fold(day[at.UtcDateTime.Hour], rate);
            week[WeekHour(at)] = Fold(week[WeekHour(at)], rate);
            foreach (var r in rows.Where(r => r.Tier is >= 0 and < 4))
            {
                tiers[r.Tier] += r.Count;
            }
        }

        var total = tiers.Sum();
        return profile with
        {
            ByDayHour = day,
            ByWeekHour = week,
            TierShare = total > 0 ? tiers.Select(t => t / total).ToArray() : profile.TierShare,
        };
    }

    /// <summary>This tick's measured arrival rates folded in.</summary>
    public DemandProfile Learn(DateTimeOffset now, IReadOnlyDictionary<Tier, double> rates)
    {
        var total = rates.Values.Sum();
        var hour = WeekHour(now);
        var next = this;
        if (hour != Hour && Hour >= 0 && HourTicks > 0)
        {
            var mean = HourRateSum / HourTicks;
            var day = (double[])ByDayHour.Clone();
            var week = (double[])ByWeekHour.Clone();
            day[Hour % 24] = Fold(day[Hour % 24], mean);
            week[Hour] = Fold(week[Hour], mean);
            next = next with { ByDayHour = day, ByWeekHour = week };
        }

        var share = (double[])TierShare.Clone();
        if (total > 0)
        {
            const double alpha = 0.002; // per tick: about a day of ticks (15 s) to move most of the way
            for (var t = 0; t < share.Length; t++)
            {
                share[t] += alpha * (rates.GetValueOrDefault((Tier)t) / total - share[t]);
            }
        }

        return next with
        {
            TierShare = share,
            Hour = hour,
            HourRateSum = (hour == Hour ? HourRateSum : 0) + total,
            HourTicks = (hour == Hour ? HourTicks : 0) + 1,
        };
    }

    /// <summary>Expected jobs per second at <paramref name="at"/>: the hour-of-week bin once the
    /// whole week is known, else the hour-of-day bin; null before that hour was ever seen.</summary>
    public double? RateAt(DateTimeOffset at)
    {
        if (KnowsWeek)
        {
            return ByWeekHour[WeekHour(at)];
        }

        var day = ByDayHour[at.UtcDateTime.Hour];
        return day >= 0 ? day : null;
    }

    /// <summary>The highest expected rate over [from, from + span] (hour bins), null if any is unknown.</summary>
    public double? PeakRate(DateTimeOffset from, TimeSpan span)
    {
        double peak = 0;
        for (var t = from; t <= from + span; t += TimeSpan.FromHours(1))
        {
            if (RateAt(t) is not { } r)
            {
                return null;
            }

            peak = Math.Max(peak, r);
        }

        return RateAt(from + span) is { } last ? Math.Max(peak, last) : null;
    }

    /// <summary>Hours of the day in which the pool may hold no HOT instance: the quietest hours
    /// whose expected arrivals together are at most <paramref name="share"/> of a day's (so at
    /// most that share of jobs can meet a cold start), each no busier than
    /// <paramref name="maxRatePerSecond"/> (above it, cold starts cost more than staying HOT).
    /// None until a whole day is known.</summary>
    public bool[] ColdHours(double share, double maxRatePerSecond = double.PositiveInfinity)
    {
        var cold = new bool[24];
        if (!KnowsDay || share <= 0)
        {
            return cold;
        }

        var total = ByDayHour.Sum();
        var used = 0.0;
        foreach (var h in Enumerable.Range(0, 24).OrderBy(h => ByDayHour[h]).ThenBy(h => h))
        {
            if (used + ByDayHour[h] > share * total || ByDayHour[h] > maxRatePerSecond)
            {
                break;
            }

            used += ByDayHour[h];
            cold[h] = true;
        }

        return cold;
    }

    /// <summary>Expected rates per tier at a total rate.</summary>
    public Dictionary<Tier, double> Split(double total) =>
        Enum.GetValues<Tier>().ToDictionary(t => t, t => total * TierShare[(int)t] / Math.Max(1e-9, TierShare.Sum()));

    private static double Fold(double old, double mean) => old < 0 ? mean : old + NewWeight * (mean - old);

    private static double[] Unknown(int n) => Enumerable.Repeat(-1.0, n).ToArray();
}
