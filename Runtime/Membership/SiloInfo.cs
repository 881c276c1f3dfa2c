namespace Actors.Runtime.Membership;

/// <summary>A silo as the membership table knows it.</summary>
public sealed record SiloInfo(string SiloId, string Address, string Roles, string? Gpu, DateTimeOffset StartedAt, DateTimeOffset LastSeen, string Status);
