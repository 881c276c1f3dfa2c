namespace Actors.Grains.Tenants;

/// <summary>Credits charged for one settled job, under the plan it ran on.</summary>
public sealed record CreditCharge(long Credits, string PlanId, string Model);
