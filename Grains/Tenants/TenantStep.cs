namespace Actors.Grains.Tenants;

/// <summary>The outcome of one tenant decision: the next state, the answer, and the effects the
/// grain carries out once that state is stored.</summary>
public sealed record TenantStep<T>(TenantRecord State, T Result, TenantEffects Effects);
