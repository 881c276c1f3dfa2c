namespace Actors.Fleet.Queueing;

/// <summary>The M/M/c queue (Poisson arrivals, exponential service, c servers, FIFO): the
/// probability that a job waits, mean and percentile waits, and the fewest servers that meet a
/// wait target. Rates are per second; "a" is the offered load λ/μ in Erlangs.</summary>
public static class ErlangC
{
    /// <summary>P(wait &gt; 0) for <paramref name="servers"/> servers and offered load
    /// <paramref name="erlangs"/>; 1 when the queue is unstable (a ≥ c).</summary>
    public static double ProbabilityOfWaiting(int servers, double erlangs)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(servers);
        ArgumentOutOfRangeException.ThrowIfNegative(erlangs);
        if (erlangs == 0)
        {
            return 0;
        }

        if (erlangs >= servers)
        {
            return 1;
        }

        // Erlang B by its stable recurrence, then C from B: C = B / (1 − ρ(1 − B)).
        var b = 1.0;
        for (var k = 1; k <= servers; k++)
        {
            b = erlangs * b / (k + erlangs * b);
        }

        var rho = erlangs / servers;
        return b / (1 - rho * (1 - b));
    }

    /// <summary>Mean wait in queue (seconds): C / (cμ − λ).</summary>
    public static double MeanWait(int servers, double arrivalPerSecond, double servicePerSecond)
    {
        var drain = servers * servicePerSecond - arrivalPerSecond;
        return drain <= 0 ? double.PositiveInfinity : ProbabilityOfWaiting(servers, arrivalPerSecond / servicePerSecond) / drain;
    }

    /// <summary>P(wait &gt; t) = C · e^(−(cμ − λ)t). With <paramref name="drainArrivalPerSecond"/>
    /// the rate of the jobs that go ahead of the one asked about (its own tier and higher, under
    /// priority) is used for the drain instead of all arrivals — the usual approximation for a
    /// priority class: whether it waits depends on all traffic, how long on the traffic ahead.</summary>
    public static double ProbabilityWaitExceeds(int servers, double arrivalPerSecond, double servicePerSecond, double seconds, double? drainArrivalPerSecond = null)
    {
        if (servers * servicePerSecond <= arrivalPerSecond)
        {
            return 1;
        }

        var c = ProbabilityOfWaiting(servers, arrivalPerSecond / servicePerSecond);
        var drain = servers * servicePerSecond - (drainArrivalPerSecond ?? arrivalPerSecond);
        return Math.Min(1, c * Math.Exp(-drain * seconds));
    }

    /// <summary>The wait that a fraction <paramref name="percentile"/> (e.g. 0.95) of jobs do not
    /// exceed: 0 when P(wait) is already below 1 − percentile, infinite when unstable.</summary>
    public static double WaitPercentile(int servers, double arrivalPerSecond, double servicePerSecond, double percentile, double? drainArrivalPerSecond = null)
    {
        var drain = servers * servicePerSecond - (drainArrivalPerSecond ?? arrivalPerSecond);
        if (servers * servicePerSecond <= arrivalPerSecond || drain <= 0)
        {
            return double.PositiveInfinity;
        }

        var c = ProbabilityOfWaiting(servers, arrivalPerSecond / servicePerSecond);
        var tail = 1 - percentile;
        return c <= tail ? 0 : Math.Log(c / tail) / drain;
    }

    /// <summary>The fewest servers (at least one, at most <paramref name="maxServers"/>) whose
    /// <paramref name="percentile"/> wait is within <paramref name="targetSeconds"/>; null if even
    /// <paramref name="maxServers"/> cannot.</summary>
    public static int? ServersFor(double arrivalPerSecond, double servicePerSecond, double targetSeconds, double percentile = 0.95, int maxServers = 1000, double? drainArrivalPerSecond = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(servicePerSecond);
        var start = Math.Max(1, (int)Math.Floor(arrivalPerSecond / servicePerSecond));
        for (var c = start; c <= maxServers; c++)
        {
            if (WaitPercentile(c, arrivalPerSecond, servicePerSecond, percentile, drainArrivalPerSecond) <= targetSeconds)
            {
                return c;
            }
        }

        return null;
    }

    /// <summary>The highest arrival rate (per second) that <paramref name="servers"/> servers carry
    /// with the percentile wait within the target (bisection; the wait grows with the rate).</summary>
    public static double MaxArrivalFor(int servers, double servicePerSecond, double targetSeconds, double percentile = 0.95)
    {
        double lo = 0, hi = servers * servicePerSecond;
        for (var i = 0; i < 100; i++)
        {
            var mid = (lo + hi) / 2;
            if (WaitPercentile(servers, mid, servicePerSecond, percentile) <= targetSeconds)
            {
                lo = mid;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }
}
