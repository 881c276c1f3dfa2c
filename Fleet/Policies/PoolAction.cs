using Actors.Grains.Tenants;

namespace Actors.Fleet.Policies;

/// <summary>What a policy asks for; the pool (or the simulator) carries it out through the
/// provider. Every action says which rule asked for it.</summary>
public abstract record PoolAction(string Reason);

/// <summary>COLD → WARM; with <see cref="ResumeWhenWarm"/> it goes on to HOT (overflow).</summary>
public sealed record RentAction(string GpuType, bool ResumeWhenWarm, string Reason) : PoolAction(Reason);

public sealed record ResumeAction(string InstanceId, string Reason) : PoolAction(Reason);

public sealed record StopAction(string InstanceId, string Reason) : PoolAction(Reason);

public sealed record ReleaseAction(string InstanceId, string Reason) : PoolAction(Reason);

/// <summary>Refuse new jobs of this tier ("server busy") until the next decision.</summary>
public sealed record RefuseTierAction(Tier Tier, string Reason) : PoolAction(Reason);

/// <summary>Something an operator must hear about (budget cap reached, max instances).</summary>
public sealed record AlertAction(string Name, string Reason) : PoolAction(Reason);

public sealed record PoolDecision(IReadOnlyList<PoolAction> Actions, PoolMemory Memory);

/// <summary>An autoscaling policy: a pure function from what the pool sees to what it does.</summary>
public interface IPoolPolicy
{
    string Name { get; }

    PoolDecision Decide(PoolSnapshot s);
}
