namespace Actors.Grains.Tenants;

/// <summary>A tenant as callers see it: never any key material, only key ids.</summary>
[GenerateSerializer(GenerateFieldIds = GenerateFieldIds.PublicProperties), Immutable]
public sealed record TenantSnapshot(string TenantId, string Name, Tier Tier, bool Exists, IReadOnlyList<string> ApiKeyIds, string PlanId = "");
