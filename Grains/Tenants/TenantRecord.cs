namespace Actors.Grains.Tenants;

/// <summary>TenantGrain's stored state: key id → SHA-256 of the key.</summary>
public sealed record TenantRecord
{
    public string Name { get; init; } = "";

    public Tier Tier { get; init; } = Tier.Free;

    public bool Created { get; init; }

    public Dictionary<string, string> KeyHashes { get; init; } = [];

    /// <summary>Signs this tenant's webhooks (Standard Webhooks: "whsec_" + base64 key).</summary>
    public string? WebhookSecret { get; init; }
}
