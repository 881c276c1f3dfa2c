using Actors.Grains.Instances;
using Actors.Grains.Tenants;

namespace Actors.Fleet.Policies;

/// <summary>Seed 003's rules, exactly as written:
/// <list type="bullet">
/// <item>queue depth &gt; 10 and a WARM standby → resume it;</item>
/// <item>queue depth &gt; 30 and all instances HOT → rent one (COLD → HOT);</item>
/// <item>queue depth &lt; 3 for 30 min and more than one instance → stop the oldest non-primary;</item>
/// <item>an instance WARM for more than 24 h → release it;</item>
/// <item>always at least one HOT primary;</item>
/// <item>overflow: Free waiting &gt; 60 s → "server busy"; Premium &gt; 120 s → resume the
/// standby; Pro or Enterprise &gt; 30 s → rent overflow.</item>
/// </list>
/// One operation of a kind at a time (a resume or a rent in flight is not repeated every tick).</summary>
/// <remarks>The quiet time (30 min) can be shortened for tests and demos on real processes.</remarks>
public sealed class SeedPolicy(TimeSpan? quietFor = null) : IPoolPolicy
{
    public const int ResumeAboveDepth = 10;
    public const int RentAboveDepth = 30;
    public const int QuietBelowDepth = 3;
    public static readonly TimeSpan QuietFor = TimeSpan.FromMinutes(30);
    public static readonly TimeSpan ReleaseWarmAfter = TimeSpan.FromHours(24);
    public const double FreeRefuseAfterSeconds = 60;
    public const double PremiumResumeAfterSeconds = 120;
    public const double ProRentAfterSeconds = 30;

    public string Name => "seed";

    /// <summary>How long the queue must stay under <see cref="QuietBelowDepth"/> before a stop.</summary>
    public TimeSpan QuietAfter { get; } = quietFor ?? QuietFor;

    public PoolDecision Decide(PoolSnapshot s)
    {
        var actions = new List<PoolAction>();
        var memory = s.Memory;
        var depth = s.QueueDepth;
        var primary = PoolRules.Primary(s);
        var resuming = PoolRules.Resuming(s);
        var renting = PoolRules.RentInFlight(s);

        void Resume(string reason)
        {
            if (!resuming && PoolRules.OldestWarmIdle(s) is { } standby)
            {
                actions.Add(new ResumeAction(standby.Id, reason));
                resuming = true;
            }
        }

        void Rent(string reason)
        {
            if (!renting && PoolRules.MayRent(s))
            {
                actions.Add(new RentAction(s.GpuType, ResumeWhenWarm: true, reason));
                renting = true;
            }
        }

        // Always at least one HOT primary.
        if (primary is null)
        {
            Resume("no HOT primary: resume a standby");
            if (!resuming)
            {
                Rent("no HOT primary and no standby: rent one");
            }
        }

        if (depth > ResumeAboveDepth)
        {
            Resume($"queue depth {depth} > {ResumeAboveDepth} with a WARM standby");
        }

        var rented = s.Instances.Where(i => i.Rented).ToList();
        if (depth > RentAboveDepth && rented.Count > 0 && rented.All(i => i.State is InstanceState.Hot or InstanceState.Serving && i.Pending is null))
        {
            Rent($"queue depth {depth} > {RentAboveDepth} and all instances HOT");
        }

        // Overflow, per tier.
        var free = s.Queue(Tier.Free).OldestWaitSeconds;
        if (free > FreeRefuseAfterSeconds)
        {
            actions.Add(new RefuseTierAction(Tier.Free, $"Free jobs waiting {free:0} s > {FreeRefuseAfterSeconds} s: server busy"));
        }

        var premium = s.Queue(Tier.Premium).OldestWaitSeconds;
        if (premium > PremiumResumeAfterSeconds)
        {
            Resume($"Premium jobs waiting {premium:0} s > {PremiumResumeAfterSeconds} s: resume standby");
        }

        var pro = Math.Max(s.Queue(Tier.Pro).OldestWaitSeconds, s.Queue(Tier.Enterprise).OldestWaitSeconds);
        if (pro > ProRentAfterSeconds)
        {
            Rent($"Pro/Enterprise jobs waiting {pro:0} s > {ProRentAfterSeconds} s: rent overflow");
        }

        // Scale in: queue < 3 for 30 min and more than one instance → stop the oldest non-primary.
        var quietSince = depth < QuietBelowDepth ? memory.QuietSince ?? s.Now : (DateTimeOffset?)null;
        var running = PoolRules.Running(s).ToList();
        if (quietSince is { } since && s.Now - since >= QuietAfter && running.Count > 1
            && running.FirstOrDefault(i => i.Id != primary) is { } oldest)
        {
            actions.Add(new StopAction(oldest.Id, $"queue depth < {QuietBelowDepth} for {QuietAfter.TotalMinutes:0.#} min and {running.Count} instances"));
            quietSince = s.Now;
        }

        foreach (var warm in s.Instances.Where(i => i.WarmIdle && s.Now - i.Since > ReleaseWarmAfter))
        {
            actions.Add(new ReleaseAction(warm.Id, $"WARM for {(s.Now - warm.Since).TotalHours:0} h > {ReleaseWarmAfter.TotalHours:0} h"));
        }

        return new PoolDecision(actions, memory with { PrimaryId = primary, QuietSince = quietSince });
    }
}
