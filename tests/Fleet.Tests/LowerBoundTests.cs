using Actors.Fleet.Policies;
using Actors.Fleet.Simulation;
using Actors.Grains.Tenants;

namespace Actors.Fleet.Tests;

public sealed class LowerBoundTests
{
    /// <summary>A small world: 60-second slots, a job takes 20 s (3 per instance-slot), at most
    /// two instances, $3.60/h HOT (6 ¢ a slot), a start 2 slots' worth, a stop ⅓ slot, targets of
    /// 30 s (Pro, Enterprise), 60 s (Premium) and 90 s (Free).</summary>
    private static BoundOptions Small(bool spells, int exempt = 0) => new()
    {
        SlotSeconds = 60,
        ServiceSeconds = 20,
        HotPerHour = 3.60m,
        WarmPerHour = 0.60m,
        MinStart = TimeSpan.FromSeconds(120),
        MinStop = TimeSpan.FromSeconds(20),
        MinRent = TimeSpan.FromSeconds(120),
        MaxInstances = 2,
        ChargeIdleSpells = spells,
        TargetSeconds = new Dictionary<Tier, double> { [Tier.Enterprise] = 30, [Tier.Pro] = 30, [Tier.Premium] = 60, [Tier.Free] = 90 },
        Exempt = new Dictionary<Tier, int> { [Tier.Pro] = exempt },
    };

    /// <summary>Traces of up to six slots and six jobs, mixed tiers, some in one slot.</summary>
    public static TheoryData<string> Traces() =>
    [
        "0:pro",
        "0:pro 250:pro",
        "10:free 20:free 30:free 40:free 300:pro",
        "0:pro 5:pro 10:pro 15:pro 20:premium 200:free",
        "100:enterprise 130:premium 330:pro",
        "0:free 61:free 122:free 183:free 244:free 305:free",
        "30:pro 31:pro 32:pro 33:pro 34:pro 35:pro",
    ];

    private static List<Arrival> Parse(string trace) =>
        trace.Split(' ').Select(p => p.Split(':')).Select(p => new Arrival(double.Parse(p[0], System.Globalization.CultureInfo.InvariantCulture), Enum.Parse<Tier>(p[1], ignoreCase: true))).ToList();

    [Theory]
    [MemberData(nameof(Traces))]
    public void TheProgrammeFindsTheSameOptimumAsAnExhaustiveSearch(string text)
    {
        var trace = Parse(text);
        foreach (var spells in new[] { false, true })
        {
            foreach (var lambda in new[] { 0.0, 0.01, 0.05, 1.0, 100.0 })
            {
                var o = Small(spells);
                var exhaustive = Exhaustive(trace, o, lambda);
                var dp = (double)LowerBound.PricedOptimum(trace, o, lambda);
                Assert.True(Math.Abs(exhaustive - dp) < 1e-9, $"{text}, spells {spells}, λ {lambda}: exhaustive {exhaustive}, programme {dp}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Traces))]
    public void TheBoundIsAtMostTheBestScheduleWithinTheAllowanceFoundExhaustively(string text)
    {
        var trace = Parse(text);
        foreach (var allowance in new[] { 0, 1, 2 })
        {
            var o = Small(spells: true, allowance);
            var best = Exhaustive(trace, o, 0, maxExempt: allowance);
            var bound = (double)LowerBound.Compute(trace, o).CostUsd;
            Assert.True(bound <= best + 0.005, $"{text}, {allowance} exempt: bound {bound} > optimum {best}");
            if (allowance == 0)
            {
                Assert.Equal(Math.Round(best, 2), bound, 2); // nothing to price: the bound is the optimum
            }
        }
    }

    [Fact]
    public void TheBoundIsBelowWhatEveryPolicyPaysAndAllowsWhatTheTargetsAllow()
    {
        var trace = Trace.Generate(TraceOptions.Standard with { Days = 2 });
        var options = new SimulationOptions();
        var exempt = Enum.GetValues<Tier>().ToDictionary(t => t, t => (int)(0.05 * trace.Count(a => a.Tier == t)));
        var bound = LowerBound.Compute(trace, BoundOptions.From(options, exempt));
        foreach (var name in new[] { "seed", "slo", "forecast", "forecast-by-load" })
        {
            var limits = name.StartsWith("forecast", StringComparison.Ordinal) ? options.Limits with { MinHot = 0 } : options.Limits;
            var r = Simulator.Run(trace, PoolPolicies.Create(name)!, options with { Limits = limits });
            Assert.True(bound.CostUsd < r.TotalCostUsd, $"{name}: ${r.TotalCostUsd} below the bound ${bound.CostUsd}");
        }

        // The work alone: every job not exempted needs its service time at the cheapest price per throughput.
        var work = (trace.Count - exempt.Values.Sum()) * options.ServiceSeconds / 3600 * (double)BoundOptions.From(options, exempt).HotPerHour;
        Assert.True((double)bound.CostUsd >= work * 0.99, $"bound ${bound.CostUsd} < the work's ${work:0.00}");
        // A tighter allowance can only raise it.
        var strict = LowerBound.Compute(trace, BoundOptions.From(options, exempt.ToDictionary(kv => kv.Key, kv => kv.Value / 4)));
        Assert.True(strict.CostUsd >= bound.CostUsd, $"{strict.CostUsd} < {bound.CostUsd}");
    }

    /// <summary>The relaxation solved by trying every HOT count in every slot and every set of
    /// exempted jobs: cost + λ per exempted job (only sets of at most <paramref name="maxExempt"/>).</summary>
    private static double Exhaustive(List<Arrival> trace, BoundOptions o, double lambda, int maxExempt = int.MaxValue)
    {
        var slots = (int)Math.Ceiling((trace[^1].AtSeconds + 1) / o.SlotSeconds) + (int)Math.Ceiling((o.TargetSeconds.Values.Max() + o.ServiceSeconds) / o.SlotSeconds);
        var slotOf = trace.Select(a => (int)(a.AtSeconds / o.SlotSeconds)).ToArray();
        var capacity = (int)Math.Ceiling(o.SlotSeconds / o.ServiceSeconds);
        var hotSlot = (double)o.HotPerHour * o.SlotSeconds / 3600;
        var warmSlot = (double)o.WarmPerHour * o.SlotSeconds / 3600;
        var start = (double)o.HotPerHour * o.MinStart.TotalHours;
        var stop = (double)o.HotPerHour * o.MinStop.TotalHours;
        var rentSlots = o.ChargeIdleSpells ? (int)Math.Ceiling(o.MinRent.TotalSeconds / o.SlotSeconds) : 0;

        // Jobs that may still be owed at the end of slot t: those whose arrival slot + window covers t.
        var allowed = new int[slots];
        for (var j = 0; j < trace.Count; j++)
        {
            var w = Math.Max(1, (int)Math.Ceiling((o.TargetSeconds[trace[j].Tier] + o.ServiceSeconds) / o.SlotSeconds));
            for (var t = slotOf[j]; t < Math.Min(slots, slotOf[j] + w); t++)
            {
                allowed[t]++;
            }
        }

        var arrivingOf = new int[1 << trace.Count, slots]; // jobs not exempted arriving in each slot, per exemption set
        for (var mask = 0; mask < 1 << trace.Count; mask++)
        {
            for (var j = 0; j < trace.Count; j++)
            {
                if ((mask & (1 << j)) == 0)
                {
                    arrivingOf[mask, slotOf[j]]++;
                }
            }
        }

        var best = double.PositiveInfinity;
        var ks = new int[slots];
        var sequences = (int)Math.Pow(o.MaxInstances + 1, slots);
        for (var code = 0; code < sequences; code++)
        {
            var c = code;
            for (var t = 0; t < slots; t++)
            {
                ks[t] = c % (o.MaxInstances + 1);
                c /= o.MaxInstances + 1;
            }

            for (var mask = 0; mask < 1 << trace.Count; mask++)
            {
                var exempted = System.Numerics.BitOperations.PopCount((uint)mask);
                if (exempted > maxExempt)
                {
                    continue;
                }

                double cost = exempted * lambda;
                int backlog = 0, k = 0, run = rentSlots; // before the trace: none HOT, any rent long past
                var feasible = true;
                for (var t = 0; t < slots && feasible; t++)
                {
                    var k2 = ks[t];
                    run = k2 > 0 ? 0 : (k == 0 ? run : 0) + 1;
                    cost += k2 * hotSlot + (k2 == 0 && run <= rentSlots ? warmSlot : 0) + Math.Max(0, k2 - k) * start + Math.Max(0, k - k2) * stop;
                    run = Math.Min(run, rentSlots);
                    backlog = Math.Max(0, backlog + arrivingOf[mask, t] - k2 * capacity);
                    feasible = backlog <= allowed[t];
                    k = k2;
                }

                if (feasible && backlog == 0)
                {
                    best = Math.Min(best, cost);
                }
            }
        }

        return best;
    }
}
