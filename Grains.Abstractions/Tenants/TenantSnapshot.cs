namespace Actors.Grains.Tenants;

/// <summary>A tenant as callers see it: never any key material, only key ids.</summary>
[GenerateSerializer(GenerateFieldIds = GenerateFieldIds.PublicProperties), Immutable]
public sealed record TenantSnapshot([Id(480056492U)] string TenantId, [Id(1744361788U)] string Name, [Id(3309590837U)] Tier Tier, [Id(3981823126U)] bool Exists, [Id(1792154652U)] IReadOnlyList<string> ApiKeyIds, [Id(1884808255U)] string PlanId = "");
