namespace Actors.Client.Api.Admin;

/// <summary>The silos of the cluster as its membership knows them (implemented by the silo host).</summary>
public interface ISiloDirectory
{
    IReadOnlyList<SiloEntry> List();
}

/// <summary>One silo: its id (Orleans' address), HTTP address, roles, the GPU instance it serves,
/// its process id, and "alive", "joining", "stopping" or "dead".</summary>
public sealed record SiloEntry(string SiloId, string Address, string Roles, string? Gpu, int? ProcessId, string Status);
