namespace Actors.Fleet.Providers.Lambda;

/// <summary>A Lambda instance as its API shows it. Status: booting, active, unhealthy,
/// terminating, terminated (billing runs from booting until terminated).</summary>
public sealed record LambdaMachine(string Id, string Name, string Status, string? Ip, string InstanceType, string Region, decimal PerHour)
{
    /// <summary>Up as far as Lambda knows: not yet "joined the cluster with models loaded", which
    /// only the machine's own silo can say.</summary>
    public bool Active => Status == "active";

    public bool Gone => Status is "terminating" or "terminated";
}

/// <summary>One instance type with its price and the regions that have capacity now (none: no
/// capacity anywhere). Lambda sells no spot.</summary>
public sealed record LambdaOffer(string InstanceType, string GpuDescription, int Gpus, decimal PerHour, IReadOnlyList<string> RegionsWithCapacity)
{
    public bool Available => RegionsWithCapacity.Count > 0;
}
