using System.Diagnostics;
using Actors.Fleet.Planning;
using Actors.Fleet.Providers;
using Actors.Grains.Tenants;

namespace Actors.Fleet.Simulation;

/// <summary>What the perfect-knowledge bound assumes. Prices are per unit of capacity: one
/// "instance" is one pool-GPU's worth of throughput, bought at the cheapest price per throughput
/// the price list offers (a GPU twice as fast counts as two at its price / 2).</summary>
public sealed record BoundOptions
{
    public double SlotSeconds { get; init; } = 60;

    /// <summary>Mean service time of one job on one pool GPU, seconds.</summary>
    public double ServiceSeconds { get; init; } = 5.5;

    /// <summary>Wait targets per tier: a job not exempted must start within its tier's target
    /// (Free: the plan's max wait, after which it expires).</summary>
    public IReadOnlyDictionary<Tier, double> TargetSeconds { get; init; } = new Dictionary<Tier, double>
    {
        [Tier.Enterprise] = 30,
        [Tier.Pro] = 30,
        [Tier.Premium] = 120,
        [Tier.Free] = 300,
    };

    /// <summary>Jobs per tier that may miss their target (p95: 5 % of the tier; Free: what the
    /// baseline policy refused or let expire).</summary>
    public IReadOnlyDictionary<Tier, int> Exempt { get; init; } = new Dictionary<Tier, int>();

    public decimal HotPerHour { get; init; } = 0.40m;

    public decimal WarmPerHour { get; init; } = 0.08m;

    /// <summary>The least a start (resume + model load) can take, billed at the HOT rate.</summary>
    public TimeSpan MinStart { get; init; } = TimeSpan.FromSeconds(150);

    /// <summary>The least a stop can take, billed at the HOT rate.</summary>
    public TimeSpan MinStop { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The least a rent takes (billed at the WARM rate): a spell with no HOT instance
    /// costs at least the WARM rate for its length up to this (hold a stopped machine, or give it
    /// back and rent again ahead of need).</summary>
    public TimeSpan MinRent { get; init; } = TimeSpan.FromMinutes(30);

    public int MaxInstances { get; init; } = 8;

    /// <summary>Charge spells with no HOT instance their WARM cost (a tighter bound, about four
    /// times slower: the spell's length is part of the state).</summary>
    public bool ChargeIdleSpells { get; init; }

    /// <summary>The bound's prices and delays from a simulation's provider and pool GPU type.</summary>
    public static BoundOptions From(SimulationOptions sim, IReadOnlyDictionary<Tier, int> exempt)
    {
        var pool = GpuProfile.ForType(sim.GpuType);
        var offers = sim.Provider.PriceList;
        // Price per pool-GPU of throughput: a GPU with no seed profile counts as the pool's own.
        decimal PerUnit(GpuOffer o, decimal price) =>
            pool is not null && GpuProfile.ForType(o.GpuType) is { } g ? price * (decimal)(pool.PerHour / g.PerHour) : price;
        var hot = offers.Count == 0 ? 0.40m : offers.Min(o => PerUnit(o, o.HotPerHour));
        var warm = !sim.Provider.CanStop ? 0m : offers.Count == 0 ? 0.08m : offers.Min(o => o.WarmPerHour);
        return new BoundOptions
        {
            ServiceSeconds = sim.ServiceSeconds,
            Exempt = exempt,
            HotPerHour = hot,
            WarmPerHour = warm,
            MinStart = sim.Provider.Resume.Min + sim.Provider.ModelLoad.Min,
            MinStop = sim.Provider.Stop.Min,
            MinRent = sim.Provider.Rent.Min,
            MaxInstances = sim.Limits.MaxInstances,
        };
    }
}

/// <summary>The bound and how it was reached: the cost, the exemption price λ that gave it, the
/// schedule's HOT instance-hours and starts at that λ, and how long it took.</summary>
public sealed record BoundResult(decimal CostUsd, double Lambda, double HotHours, int Starts, int Exempted, int Evaluations, TimeSpan WallTime);

/// <summary>A lower bound on what any fleet schedule — even one that knows the whole trace in
/// advance — must spend to meet the wait targets. It solves a relaxation of the real problem
/// exactly, so its optimum is at most the real optimum:
/// <list type="bullet">
/// <item>time in slots; in each, some number k of HOT instances (integer units of the pool GPU's
/// throughput) at the cheapest price per throughput on the list, each serving ⌈slot / mean
/// service⌉ jobs (rounded up) — work is fluid: a job may be split across instances and slots;</item>
/// <item>a job not exempted must be done by the end of the slot that holds its latest start plus
/// its service (arrival + target + service) — later than the real rule (start by the target);</item>
/// <item>a start costs the shortest resume + load at the HOT rate, a stop the shortest stop; a
/// spell with no HOT instance the WARM rate for at most the shortest rent; nothing else (no rent
/// time, no failures, no preemptions, no WARM standbys beside HOT ones);</item>
/// <item>the p95 targets let 5 % of each tier's jobs (Free: the baseline's refusals) wait without
/// limit; the relaxation drops them entirely, chosen with hindsight.</item>
/// </list>
/// The exemptions are priced by a Lagrange multiplier λ (a job may be dropped for λ dollars; the
/// allowance is credited back): for every λ ≥ 0 the priced problem's optimum minus λ × allowance
/// is at most the relaxation's optimum (weak duality), so any λ gives a valid bound and the best
/// one found is reported. Each priced problem is a dynamic programme over (HOT count, slots
/// spent with none HOT, jobs still owed), keeping per (count, spell) only the states not beaten
/// on both backlog and cost.</summary>
public static class LowerBound
{
    public static BoundResult Compute(IReadOnlyList<Arrival> trace, BoundOptions o, IProgress<double>? progress = null)
    {
        var wall = Stopwatch.StartNew();
        var problem = new Problem(trace, o);
        var allowance = o.Exempt.Values.Sum();

        // Golden-section search of the concave dual L(λ) = priced optimum − λ·allowance.
        var evaluations = 0;
        (decimal Bound, Solution S) Eval(double lambda)
        {
            evaluations++;
            var s = problem.Solve(lambda);
            return ((decimal)((double)s.Cost - lambda * allowance), s);
        }

        // No allowance: no exemption may be bought (λ beyond any schedule's cost). Else search λ
        // from 0 (exempt for free) up to well past what serving one job can cost.
        var perJob = (double)o.HotPerHour * (o.MinStart + o.MinStop).TotalHours + (double)o.HotPerHour * o.SlotSeconds / 3600 * 10;
        var hi = allowance == 0 ? 0 : 10 * perJob;
        var bestLambda = allowance == 0 ? 1e9 : 0.0;
        var best = Eval(bestLambda);
        if (hi > 0)
        {
            const double phi = 0.6180339887498949;
            double a = 0, b = hi;
            var c = b - phi * (b - a);
            var d = a + phi * (b - a);
            var fc = Eval(c);
            var fd = Eval(d);
            foreach (var (l, f) in new[] { (c, fc), (d, fd) })
            {
                if (f.Bound > best.Bound)
                {
                    (best, bestLambda) = (f, l);
                }
            }

            for (var i = 0; i < 18; i++)
            {
                if (fc.Bound >= fd.Bound)
                {
                    (b, d, fd) = (d, c, fc);
                    c = b - phi * (b - a);
                    fc = Eval(c);
                    if (fc.Bound > best.Bound)
                    {
                        (best, bestLambda) = (fc, c);
                    }
                }
                else
                {
                    (a, c, fc) = (c, d, fd);
                    d = a + phi * (b - a);
                    fd = Eval(d);
                    if (fd.Bound > best.Bound)
                    {
                        (best, bestLambda) = (fd, d);
                    }
                }

                progress?.Report((i + 1) / 18.0);
            }
        }

        progress?.Report(1);
        return new BoundResult(Math.Round(Math.Max(0, best.Bound), 2), bestLambda, best.S.HotHours, best.S.Starts, best.S.Exempted, evaluations, wall.Elapsed);
    }

    /// <summary>The relaxation's exact optimum with exemptions at <paramref name="lambda"/> each
    /// (tests compare it with an exhaustive search on small traces).</summary>
    public static decimal PricedOptimum(IReadOnlyList<Arrival> trace, BoundOptions o, double lambda) => new Problem(trace, o).Solve(lambda).Cost;

    internal sealed record Solution(decimal Cost, double HotHours, int Starts, int Exempted);

    private sealed class Problem
    {
        private readonly BoundOptions _o;
        private readonly int[] _arrivals;   // jobs arriving in each slot
        private readonly int[] _allowed;    // jobs that may still be owed at the end of each slot
        private readonly int _capacity, _zeroSlots, _maxK;
        private readonly double _hotSlot, _warmSlot, _start, _stop;

        public Problem(IReadOnlyList<Arrival> trace, BoundOptions o)
        {
            _o = o;
            // The horizon runs past the last arrival by the longest window, so its jobs may be served late too.
            var longest = o.TargetSeconds.Values.DefaultIfEmpty(300).Max();
            var slots = Math.Max(1, (int)Math.Ceiling((trace.Count == 0 ? 0 : trace[^1].AtSeconds + 1) / o.SlotSeconds))
                + (int)Math.Ceiling((longest + o.ServiceSeconds) / o.SlotSeconds);
            _arrivals = new int[slots];
            var perTier = new int[4, slots];
            foreach (var a in trace)
            {
                var slot = Math.Min(slots - 1, (int)(a.AtSeconds / o.SlotSeconds));
                _arrivals[slot]++;
                perTier[(int)a.Tier, slot]++;
            }

            // A job arriving in slot t with target D must be done by slot t + ⌈(D + service)/slot⌉ − … :
            // it may still be owed at the end of slots t … t + w − 1, w = ⌈(D + service) / slot⌉.
            _allowed = new int[slots];
            for (var tier = 0; tier < 4; tier++)
            {
                var target = o.TargetSeconds.TryGetValue((Tier)tier, out var d) ? d : 300;
                var w = Math.Max(1, (int)Math.Ceiling((target + o.ServiceSeconds) / o.SlotSeconds));
                var window = 0;
                for (var t = 0; t < slots; t++)
                {
                    window += perTier[tier, t];
                    if (t - w >= 0)
                    {
                        window -= perTier[tier, t - w];
                    }

                    _allowed[t] += window;
                }
            }

            _capacity = (int)Math.Ceiling(o.SlotSeconds / o.ServiceSeconds);
            _zeroSlots = o.ChargeIdleSpells ? (int)Math.Ceiling(o.MinRent.TotalSeconds / o.SlotSeconds) : 0;
            _maxK = Math.Max(1, o.MaxInstances);
            _hotSlot = (double)o.HotPerHour * o.SlotSeconds / 3600;
            _warmSlot = (double)o.WarmPerHour * o.SlotSeconds / 3600;
            _start = (double)o.HotPerHour * o.MinStart.TotalHours;
            _stop = (double)o.HotPerHour * o.MinStop.TotalHours;
        }

        public Solution Solve(double lambda)
        {
            // Frontier per (k, z): states (backlog, cost, hot slots, starts, exempted), backlog ascending, cost descending.
            var groups = (_maxK + 1) + _zeroSlots + 1;
            var current = new List<State>[groups];
            var next = new List<State>[groups];
            for (var g = 0; g < groups; g++)
            {
                current[g] = [];
                next[g] = [];
            }

            current[Group(0, _zeroSlots)].Add(new State(0, 0, 0, 0, 0)); // before the trace: none HOT, a rent long past
            var candidates = new List<State>();
            for (var t = 0; t < _arrivals.Length; t++)
            {
                var n = _arrivals[t];
                var allowed = _allowed[t];
                for (var g = 0; g < groups; g++)
                {
                    next[g].Clear();
                }

                for (var g = 0; g < groups; g++)
                {
                    if (current[g].Count == 0)
                    {
                        continue;
                    }

                    var (k, z) = Ungroup(g);
                    // More HOT than both now and what clears every job owed is never better: a
                    // start costs the same later, when it is needed.
                    var most = current[g][^1].Backlog + n; // the frontier is backlog-ascending
                    var kMax = Math.Min(_maxK, Math.Max(k, (most + _capacity - 1) / _capacity));
                    for (var k2 = 0; k2 <= kMax; k2++)
                    {
                        // z: slots in the current spell with none HOT, capped at a rent's length; the
                        // spell's WARM cost is charged for its first slots up to that length.
                        var run = k2 > 0 ? 0 : (k == 0 ? z : 0) + 1;
                        var z2 = Math.Min(_zeroSlots, run);
                        var step = k2 * _hotSlot + (k2 == 0 && run <= _zeroSlots ? _warmSlot : 0)
                            + Math.Max(0, k2 - k) * _start + Math.Max(0, k - k2) * _stop;
                        var capacity = k2 * _capacity;
                        var target = next[Group(k2, z2)];
                        foreach (var s in current[g])
                        {
                            var owed = s.Backlog + n - capacity;
                            var minExempt = Math.Max(0, owed - allowed);
                            // Many choices (a flood of arrivals): taken in steps, each as if it had
                            // exempted the whole step but paying for its first — optimistic, so still a bound.
                            var stride = Math.Max(1, (n - minExempt + MaxExemptChoices) / MaxExemptChoices);
                            for (var e = minExempt; e <= n; e += stride)
                            {
                                var backlog = Math.Max(0, owed - Math.Min(n, e + stride - 1));
                                target.Add(new State(backlog, s.Cost + step + e * lambda, s.HotSlots + k2, s.Starts + Math.Max(0, k2 - k), s.Exempted + e));
                                if (backlog == 0)
                                {
                                    break; // exempting more only costs more
                                }
                            }
                        }
                    }
                }

                for (var g = 0; g < groups; g++)
                {
                    Prune(next[g], candidates);
                }

                (current, next) = (next, current);
            }

            State? best = null;
            foreach (var list in current)
            {
                foreach (var s in list)
                {
                    if (s.Backlog == 0 && (best is null || s.Cost < best.Value.Cost))
                    {
                        best = s;
                    }
                }
            }

            var b = best ?? new State(0, double.PositiveInfinity, 0, 0, 0);
            return new Solution((decimal)b.Cost, b.HotSlots * _o.SlotSeconds / 3600, b.Starts, b.Exempted);
        }

        private int Group(int k, int z) => k > 0 ? k : _maxK + 1 + z;

        private (int K, int Z) Ungroup(int g) => g <= _maxK ? (g, 0) : (0, g - _maxK - 1);

        /// <summary>Frontiers larger than this (a load past every instance's capacity: thousands of
        /// backlogs) are coarsened optimistically.</summary>
        private const int MaxFrontier = 96;

        /// <summary>Exemption counts tried per state and slot before they are taken in steps.</summary>
        private const int MaxExemptChoices = 16;

        /// <summary>Keeps the states no other beats on both backlog and cost. A frontier longer than
        /// <see cref="MaxFrontier"/> is cut into runs, each replaced by one state with the run's
        /// smallest backlog and smallest cost — better than any state it replaces, so the optimum can
        /// only go down and the bound stays a bound (exact whenever no frontier is that long).</summary>
        private static void Prune(List<State> states, List<State> scratch)
        {
            if (states.Count <= 1)
            {
                return;
            }

            states.Sort(static (a, b) => a.Backlog != b.Backlog ? a.Backlog.CompareTo(b.Backlog) : a.Cost.CompareTo(b.Cost));
            scratch.Clear();
            var bestCost = double.PositiveInfinity;
            foreach (var s in states)
            {
                if (s.Cost < bestCost - 1e-12)
                {
                    scratch.Add(s);
                    bestCost = s.Cost;
                }
            }

            states.Clear();
            if (scratch.Count <= MaxFrontier)
            {
                states.AddRange(scratch);
                return;
            }

            // Backlog ascending, cost descending: a run's first has the least backlog, its last the least cost.
            var run = (scratch.Count + MaxFrontier - 1) / MaxFrontier;
            for (var i = 0; i < scratch.Count; i += run)
            {
                var last = scratch[Math.Min(scratch.Count, i + run) - 1];
                states.Add(last with { Backlog = scratch[i].Backlog });
            }
        }

        private readonly record struct State(int Backlog, double Cost, long HotSlots, int Starts, int Exempted);
    }
}
