using Actors.Client.Api.Admin;
using Orleans.Runtime.MembershipService.SiloMetadata;

namespace Actors.Silo.Cluster;

/// <summary>The cluster's silos from Orleans' membership, with what each published about itself
/// (<see cref="SiloIdentity.Metadata"/>): which one serves an instance, where its HTTP door is,
/// which are dead.</summary>
internal sealed class ClusterMembers(IClusterMembershipService membership, ISiloMetadataCache metadata) : ISiloDirectory
{
    public IReadOnlyList<SiloEntry> List() =>
        [.. membership.CurrentSnapshot.Members.Values.OrderBy(m => m.SiloAddress.ToParsableString(), StringComparer.Ordinal).Select(Entry)];

    /// <summary>The HTTP address of the live silo serving <paramref name="instanceId"/>, or null.
    /// A silo's metadata reaches this silo a moment after the silo itself (a control silo that has
    /// just started has not heard from every silo yet): while some live silo has told nothing,
    /// this waits (up to 10 s) before saying there is none.</summary>
    public async Task<string?> HttpOfAsync(string instanceId, CancellationToken cancellationToken)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var silos = List();
            if (silos.Where(s => s.Gpu == instanceId && s.Status == "alive" && s.Address.Length > 0).Select(s => s.Address).LastOrDefault() is { } found)
            {
                return found;
            }

            if (!silos.Any(s => s.Status == "alive" && s.Roles.Length == 0) || clock.Elapsed > TimeSpan.FromSeconds(10))
            {
                return null;
            }

            await Task.Delay(100, cancellationToken);
        }
    }

    /// <summary>True if membership has declared <paramref name="siloId"/> dead (a silo it does not
    /// know is not assumed dead: its leases lapse on their own).</summary>
    public bool IsDead(string siloId) =>
        TryParse(siloId) is { } address && membership.CurrentSnapshot.GetSiloStatus(address) == SiloStatus.Dead;

    public MembershipVersion Version => membership.CurrentSnapshot.Version;

    /// <summary>Silos on this machine (loopback addresses) that membership still counts as alive
    /// although their process has ended (killed): membership is asked to declare them dead now,
    /// rather than after its missed probes. Returns how many.</summary>
    public async Task<int> DeclareEndedLocalSilosAsync()
    {
        var ended = 0;
        foreach (var member in membership.CurrentSnapshot.Members.Values.Where(m => m.Status == SiloStatus.Active && System.Net.IPAddress.IsLoopback(m.SiloAddress.Endpoint.Address)))
        {
            if (int.TryParse(metadata.GetSiloMetadata(member.SiloAddress).Metadata.GetValueOrDefault(SiloIdentity.ProcessKey), out var pid)
                && pid != Environment.ProcessId && ProcessLiveness.Ended(pid) && await membership.TryKill(member.SiloAddress))
            {
                ended++;
            }
        }

        return ended;
    }

    private SiloEntry Entry(ClusterMember member)
    {
        var data = metadata.GetSiloMetadata(member.SiloAddress).Metadata;
        return new SiloEntry(member.SiloAddress.ToParsableString(), data.GetValueOrDefault(SiloIdentity.HttpKey, ""), data.GetValueOrDefault(SiloIdentity.RolesKey, ""),
            data.GetValueOrDefault(SiloIdentity.InstanceKey), int.TryParse(data.GetValueOrDefault(SiloIdentity.ProcessKey), out var pid) ? pid : null,
            member.Status switch
            {
                SiloStatus.Active => "alive",
                SiloStatus.Created or SiloStatus.Joining => "joining",
                SiloStatus.ShuttingDown or SiloStatus.Stopping => "stopping",
                _ => "dead",
            });
    }

    private static SiloAddress? TryParse(string siloId)
    {
        try
        {
            return SiloAddress.FromParsableString(siloId);
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
