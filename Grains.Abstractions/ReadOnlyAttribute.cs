namespace Actors.Grains;

/// <summary>Marks a grain method that only reads state (as Orleans' [ReadOnly]): it runs on the
/// last committed state without taking the grain, so it never waits for a turn in progress and
/// never blocks one. It must not write state.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ReadOnlyAttribute : Attribute;
