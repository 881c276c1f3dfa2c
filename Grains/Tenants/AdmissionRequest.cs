namespace Actors.Grains.Tenants;

/// <summary>A job asking to be admitted. <see cref="ReservedBefore"/>: the ledger already holds its
/// reservation (a repeated submission whose reservation has since been settled).</summary>
public sealed record AdmissionRequest(string TenantId, string JobId, string Model, bool ReservedBefore = false);
