namespace Actors.Fleet.Policies;

/// <summary>The pool's measured service time: seconds instances spent SERVING per job they
/// completed, gathered between ticks. A sample is taken once <see cref="MinJobs"/> jobs have
/// finished (few jobs say little); samples are smoothed so one burst does not swing the SLO
/// policy. Until the first sample the configured value stands.</summary>
public sealed record ServiceTime
{
    public const int MinJobs = 20;
    private const double Smoothing = 0.3;

    /// <summary>The measured seconds per job; null until measured.</summary>
    public double? Seconds { get; init; }

    /// <summary>Jobs behind the samples taken so far.</summary>
    public long Jobs { get; init; }

    /// <summary>Gathered since the last sample.</summary>
    public double PendingServingSeconds { get; init; }

    public long PendingJobs { get; init; }

    /// <summary>Adds what happened since the last tick: seconds the instances served, jobs run.</summary>
    public ServiceTime Add(double servingSeconds, long jobs)
    {
        if (!(servingSeconds >= 0) || jobs < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(servingSeconds), "serving time and jobs cannot be negative");
        }

        var next = this with { PendingServingSeconds = PendingServingSeconds + servingSeconds, PendingJobs = PendingJobs + jobs };
        if (next.PendingJobs < MinJobs || next.PendingServingSeconds <= 0)
        {
            return next;
        }

        var sample = next.PendingServingSeconds / next.PendingJobs;
        return new ServiceTime
        {
            Seconds = Seconds is { } s ? s + Smoothing * (sample - s) : sample,
            Jobs = Jobs + next.PendingJobs,
        };
    }

    /// <summary>The measured value, or <paramref name="configured"/> until there is one.</summary>
    public double Or(double configured) => Seconds ?? configured;
}
