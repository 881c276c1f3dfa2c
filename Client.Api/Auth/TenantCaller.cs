using Actors.Grains.Tenants;

namespace Actors.Client.Api.Auth;

/// <summary>Who is calling: the tenant an API key belongs to, and its tier.</summary>
public sealed record TenantCaller(string TenantId, Tier Tier);
