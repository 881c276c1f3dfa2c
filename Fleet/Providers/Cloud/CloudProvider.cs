using System.Collections.Concurrent;
using Actors.Grains.Instances;

namespace Actors.Fleet.Providers.Cloud;

/// <summary>A GPU cloud behind the provider interface, the same for RunPod, Vast.ai and Lambda
/// (<see cref="ICloudApi"/> speaks each one's wire format). Our instance <c>i</c> is the machine
/// named <c>{prefix}i</c>, found by that name after a restart or a launch whose answer was lost —
/// never launched twice. A rent launches a running machine from the cheapest offer that fits
/// (GPU type, spot or on-demand, regions, <see cref="CloudProviderOptions.MaxPerHour"/>), trying
/// the next offer when one has no capacity; the machine runs our GPU-host silo image with the
/// cluster's settings. It is HOT only when <see cref="IClusterJoin"/> says its silo has joined with
/// its models loaded (a cloud's "running" is not ready). Where the cloud can stop, stop and resume
/// move it between HOT and WARM (WARM billed at the cloud's stopped-disk rate). A machine we want
/// running that the cloud stopped (a spot preemption, an outbid) or that stops heart-beating to
/// the cluster is lost: terminated and reported <see cref="ProviderPhase.Preempted"/>, so its jobs
/// go back to the queue and the pool rents a replacement.</summary>
public sealed class CloudProvider(ICloudApi api, CloudProviderOptions options, IClusterJoin cluster, TimeProvider time) : IInstanceProvider
{
    private readonly ConcurrentDictionary<string, Tracked> _tracked = new(StringComparer.Ordinal);
    private IReadOnlyList<CloudOffer> _offers = [];
    private DateTimeOffset _offersAt = DateTimeOffset.MinValue;

    public string Name => options.Name ?? (options.Spot ? api.Cloud + "-spot" : api.Cloud);

    public ICloudApi Api => api;

    public CloudProviderOptions Options => options;

    /// <summary>One line per GPU type of the kind this provider rents (spot or on demand), at the
    /// cheapest price it can be had for now (the cheapest listed when none is free).</summary>
    public IReadOnlyList<GpuOffer> PriceList =>
        [.. Fitting(_offers).GroupBy(o => o.GpuType, StringComparer.Ordinal).Select(g =>
        {
            var best = g.OrderBy(o => !o.Available).ThenBy(o => o.PerHour).First();
            return new GpuOffer(best.GpuType, best.PerHour, api.Capabilities.CanStop ? best.StoppedPerHour : best.PerHour, options.Spot);
        }).OrderBy(o => o.HotPerHour)];

    public ProviderCapabilities Capabilities =>
        api.Capabilities with { Spot = options.Spot && api.Capabilities.Spot, RentsRunning = true };

    /// <summary>The offers as last read (what <see cref="PriceList"/> and rents use).</summary>
    public IReadOnlyList<CloudOffer> Offers => _offers;

    /// <summary>Reads the cloud's offers now.</summary>
    public async Task<IReadOnlyList<CloudOffer>> RefreshOffersAsync(CancellationToken cancellationToken = default)
    {
        _offers = await api.OffersAsync(cancellationToken);
        _offersAt = time.GetUtcNow();
        return _offers;
    }

    public async Task<ProviderTicket> RentAsync(string instanceId, string gpuType, CancellationToken cancellationToken = default)
    {
        var tracked = _tracked.GetOrAdd(instanceId, _ => new Tracked());
        tracked.LaunchStarted = time.GetUtcNow();
        if (await FindAsync(instanceId, cancellationToken) is { Gone: false } existing && existing.State != CloudMachineState.Failed)
        {
            // Ours already (a repeated rent, a restart of the control silo): adopted, never launched twice.
            tracked.Want(CloudMachineState.Running, existing.Id, time.GetUtcNow());
            return Ticket(instanceId, ProviderOperation.Rent);
        }

        if (time.GetUtcNow() - _offersAt > TimeSpan.FromSeconds(options.OffersMaxAgeSeconds))
        {
            await RefreshOffersAsync(cancellationToken);
        }

        var ofType = Fitting(_offers).Where(o => o.GpuType == gpuType).ToList();
        if (ofType.Count == 0)
        {
            throw new ProviderException("unknown_gpu", $"{Name} offers no {(options.Spot ? "spot" : "on-demand")} '{gpuType}' (it has: {string.Join(", ", Fitting(_offers).Select(o => o.GpuType).Distinct())})");
        }

        var candidates = ofType.Where(o => o.Available && (options.MaxPerHour is not { } max || o.PerHour <= max)).OrderBy(o => o.PerHour).Take(options.OffersTried).ToList();
        if (candidates.Count == 0)
        {
            throw new ProviderException("unavailable", $"{Name} has no {gpuType} free{(options.MaxPerHour is { } m ? $" at or under ${m}/h" : "")}{(options.Regions.Count > 0 ? $" in {string.Join(", ", options.Regions)}" : "")}");
        }

        var name = api.NamePrefix + instanceId;
        ProviderException? last = null;
        foreach (var offer in candidates)
        {
            try
            {
                var id = await api.LaunchAsync(new CloudLaunch(name, offer, options.Spot ? Bid(offer) : null, options.Startup(instanceId)), cancellationToken);
                tracked.Want(CloudMachineState.Running, id, time.GetUtcNow());
                return Ticket(instanceId, ProviderOperation.Rent);
            }
            catch (ProviderException e) when (e.Code is "failed" or "timeout")
            {
                // No definite answer: it may have rented (seen at RunPod). Ours by name before anything else.
                if (await FindByNameAsync(name, cancellationToken) is { } launched)
                {
                    tracked.Want(CloudMachineState.Running, launched.Id, time.GetUtcNow());
                    return Ticket(instanceId, ProviderOperation.Rent);
                }

                throw;
            }
            catch (ProviderException e) when (e.Code is "unavailable" or "bid_too_low")
            {
                last = e; // offers change all the time: the next one
            }
        }

        throw new ProviderException("unavailable", $"{Name}: none of {candidates.Count} {gpuType} offer(s) could be rented: {last?.Message}");
    }

    public async Task<ProviderTicket> ResumeAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        Supported("resume");
        var machine = await FindAsync(instanceId, cancellationToken) is { Gone: false } m ? m
            : throw new ProviderException("invalid_state", $"{Name} has no machine for instance '{instanceId}' to resume");
        await api.StartAsync(machine, cancellationToken);
        _tracked.GetOrAdd(instanceId, _ => new Tracked()).Want(CloudMachineState.Running, machine.Id, time.GetUtcNow(), resuming: true);
        return Ticket(instanceId, ProviderOperation.Resume);
    }

    public async Task<ProviderTicket> StopAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        Supported("stop");
        var machine = await FindAsync(instanceId, cancellationToken) is { Gone: false } m ? m
            : throw new ProviderException("invalid_state", $"{Name} has no machine for instance '{instanceId}' to stop");
        await api.StopAsync(machine, cancellationToken);
        _tracked.GetOrAdd(instanceId, _ => new Tracked()).Want(CloudMachineState.Stopped, machine.Id, time.GetUtcNow());
        return new ProviderTicket(instanceId, ProviderOperation.Stop, time.GetUtcNow(), TimeSpan.FromMinutes(1));
    }

    public async Task<ProviderTicket> ReleaseAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        var tracked = _tracked.GetOrAdd(instanceId, _ => new Tracked());
        var machine = await FindAsync(instanceId, cancellationToken);
        tracked.Want(CloudMachineState.Gone, machine?.Id, time.GetUtcNow());
        if (machine is { Gone: false })
        {
            await api.TerminateAsync(machine, cancellationToken);
        }

        return new ProviderTicket(instanceId, ProviderOperation.Release, time.GetUtcNow(), TimeSpan.FromMinutes(1));
    }

    public async Task<ProviderStatus> StatusAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        var tracked = _tracked.GetOrAdd(instanceId, _ => new Tracked());
        var machine = await FindAsync(instanceId, cancellationToken);
        var wanted = tracked.Wanted ?? Assumed(machine);
        var before = api.Capabilities.CanStop ? InstanceState.Warm : InstanceState.Hot;
        var status = (machine?.State, wanted) switch
        {
            (null or CloudMachineState.Gone, CloudMachineState.Running) when tracked.Wanted is not null =>
                await LostAsync(instanceId, tracked, machine, $"{Name} no longer has machine {machine?.Id ?? tracked.MachineId} (it was not released by us)", cancellationToken),
            (null or CloudMachineState.Gone or CloudMachineState.Terminating, CloudMachineState.Gone) when tracked.LostReason is { } lost =>
                (ProviderPhase.Preempted, InstanceState.Cold, lost), // said again: the instance may not have recorded it yet
            (null or CloudMachineState.Gone, _) => (ProviderPhase.Cold, InstanceState.Cold, (string?)null),
            (CloudMachineState.Terminating, _) => (ProviderPhase.Releasing, before, null),
            (_, CloudMachineState.Gone) => (ProviderPhase.Releasing, before, null),
            (CloudMachineState.Failed, _) when tracked.Joined =>
                await LostAsync(instanceId, tracked, machine, $"{Name} says machine {machine!.Id} failed ({machine.Detail})", cancellationToken),
            (CloudMachineState.Failed, _) => await FailedStartAsync(tracked, machine!, cancellationToken),
            (CloudMachineState.Stopped, CloudMachineState.Running) when !tracked.Resuming || tracked.Joined =>
                await LostAsync(instanceId, tracked, machine, $"{Name} stopped machine {machine!.Id} without our asking ({(machine.Spot ? "spot preemption" : machine.Detail)})", cancellationToken),
            (CloudMachineState.Stopped, CloudMachineState.Running) => (ProviderPhase.Resuming, InstanceState.Warm, null),
            (CloudMachineState.Stopped, _) => (ProviderPhase.Warm, InstanceState.Warm, null),
            (CloudMachineState.Stopping or CloudMachineState.Running or CloudMachineState.Starting, CloudMachineState.Stopped) => (ProviderPhase.Stopping, InstanceState.Hot, null),
            (CloudMachineState.Stopping, _) when tracked.Joined =>
                await LostAsync(instanceId, tracked, machine, $"{Name} is stopping machine {machine!.Id} without our asking ({machine.Detail})", cancellationToken),
            (CloudMachineState.Running, _) => await RunningAsync(instanceId, tracked, machine!, now, cancellationToken),
            _ => tracked.Resuming ? (ProviderPhase.Resuming, InstanceState.Warm, null) : (ProviderPhase.Renting, InstanceState.Cold, null),
        };
        var since = tracked.Seen(status.Item1, now);
        return new ProviderStatus(instanceId, status.Item1, status.Item2, since, status.Item3);
    }

    /// <summary>Running at the cloud: HOT once its silo has joined; a silo that joined and then
    /// stopped heart-beating for <see cref="CloudProviderOptions.LostAfterSeconds"/> is a lost machine.</summary>
    private async Task<(ProviderPhase, InstanceState, string?)> RunningAsync(string instanceId, Tracked tracked, CloudMachine machine, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (await cluster.JoinedAsync(instanceId, cancellationToken))
        {
            tracked.Joined = true;
            tracked.Resuming = false;
            tracked.NotJoinedSince = null;
            return (ProviderPhase.Hot, InstanceState.Hot, null);
        }

        if (!tracked.Joined)
        {
            return tracked.Resuming ? (ProviderPhase.Resuming, InstanceState.Warm, null) : (ProviderPhase.Renting, InstanceState.Cold, null);
        }

        tracked.NotJoinedSince ??= now;
        return now - tracked.NotJoinedSince.Value < TimeSpan.FromSeconds(options.LostAfterSeconds)
            ? (ProviderPhase.Hot, InstanceState.Hot, null)
            : await LostAsync(instanceId, tracked, machine, $"the silo of machine {machine.Id} stopped heart-beating to the cluster {options.LostAfterSeconds:0} s ago (the cloud still says {machine.Detail})", cancellationToken);
    }

    /// <summary>Our machine, lost while we wanted it: ended (a stopped spot machine still bills its
    /// disk; a silent one may still bill everything) and reported preempted — the instance is COLD.</summary>
    private async Task<(ProviderPhase, InstanceState, string?)> LostAsync(string instanceId, Tracked tracked, CloudMachine? machine, string why, CancellationToken cancellationToken)
    {
        if (machine is { Gone: false })
        {
            try
            {
                await api.TerminateAsync(machine, cancellationToken);
            }
            catch (ProviderException)
            {
                // tried again by the next status, the release, or reconciliation (an orphan by then)
            }
        }

        tracked.Want(CloudMachineState.Gone, machine?.Id, time.GetUtcNow());
        tracked.LostReason = why;
        Lost?.Invoke(instanceId, why);
        return (ProviderPhase.Preempted, InstanceState.Cold, why);
    }

    /// <summary>A machine that will not come up while renting: ended; the rent failed (tried again with a new machine).</summary>
    private async Task<(ProviderPhase, InstanceState, string?)> FailedStartAsync(Tracked tracked, CloudMachine machine, CancellationToken cancellationToken)
    {
        await api.TerminateAsync(machine, cancellationToken);
        tracked.Want(CloudMachineState.Gone, machine.Id, time.GetUtcNow());
        return (ProviderPhase.Failed, tracked.Resuming ? InstanceState.Warm : InstanceState.Cold, $"{Name}: machine {machine.Id} did not come up ({machine.Detail})");
    }

    /// <summary>Raised when a machine is found lost (preempted, failed, silent): instance id, why.</summary>
    public event Action<string, string>? Lost;

    /// <summary>Launches in flight or recent (the instance grain has not recorded them yet): the
    /// reconciliation leaves their machines alone.</summary>
    public bool LaunchedRecently(string instanceId) =>
        _tracked.TryGetValue(instanceId, out var t) && t.LaunchStarted is { } at && time.GetUtcNow() - at < TimeSpan.FromMinutes(options.LaunchGraceMinutes);

    /// <summary>Ours by the id we launched, or by name (a restart, a launch whose answer was lost).</summary>
    private async Task<CloudMachine?> FindAsync(string instanceId, CancellationToken cancellationToken)
    {
        if (_tracked.TryGetValue(instanceId, out var t) && t.MachineId is { } id && await api.GetAsync(id, cancellationToken) is { } known)
        {
            return known;
        }

        return await FindByNameAsync(api.NamePrefix + instanceId, cancellationToken) is { } found
            ? _tracked.GetOrAdd(instanceId, _ => new Tracked()).Adopt(found)
            : null;
    }

    private async Task<CloudMachine?> FindByNameAsync(string name, CancellationToken cancellationToken) =>
        (await api.ListAsync(cancellationToken)).Where(m => m.Name == name).OrderBy(m => m.Gone).FirstOrDefault();

    /// <summary>What we want of a machine we did not launch in this process (a restart): what it is doing.</summary>
    private static CloudMachineState Assumed(CloudMachine? machine) => machine?.State switch
    {
        CloudMachineState.Stopped or CloudMachineState.Stopping => CloudMachineState.Stopped,
        null or CloudMachineState.Gone or CloudMachineState.Terminating => CloudMachineState.Gone,
        _ => CloudMachineState.Running,
    };

    private IEnumerable<CloudOffer> Fitting(IEnumerable<CloudOffer> offers) =>
        offers.Where(o => o.Spot == options.Spot && (options.Regions.Count == 0 || options.Regions.Contains(o.Region)));

    /// <summary>A spot bid: the offer's price (its minimum bid) plus the margin, never over the cap.</summary>
    private decimal Bid(CloudOffer offer)
    {
        var bid = Math.Round(Math.Max(offer.MinBid ?? offer.PerHour, offer.PerHour) * (1 + options.BidMargin), 4);
        return options.MaxPerHour is { } max && bid > max ? max : bid;
    }

    private void Supported(string operation)
    {
        if (!api.Capabilities.CanStop)
        {
            throw new ProviderException("not_supported", $"{api.Cloud} cannot stop a machine (it runs, billed, or is gone), so it cannot {operation} one: release it");
        }
    }

    private ProviderTicket Ticket(string instanceId, ProviderOperation operation) =>
        new(instanceId, operation, time.GetUtcNow(), TimeSpan.FromSeconds(options.ReadySeconds ?? api.Capabilities.TypicalTimeToReady.TotalSeconds));

    /// <summary>What this process knows of one instance's machine.</summary>
    private sealed class Tracked
    {
        private ProviderPhase? _phase;
        private DateTimeOffset _since;

        public string? MachineId { get; private set; }

        /// <summary>What we last asked of it (null: nothing in this process).</summary>
        public CloudMachineState? Wanted { get; private set; }

        public bool Resuming { get; set; }

        /// <summary>Its silo joined the cluster since it was last started.</summary>
        public bool Joined { get; set; }

        public DateTimeOffset? NotJoinedSince { get; set; }

        public DateTimeOffset? LaunchStarted { get; set; }

        public string? LostReason { get; set; }

        public void Want(CloudMachineState state, string? machineId, DateTimeOffset now, bool resuming = false)
        {
            Wanted = state;
            MachineId = machineId ?? MachineId;
            Resuming = resuming;
            NotJoinedSince = null;
            if (state != CloudMachineState.Gone)
            {
                Joined = state == CloudMachineState.Stopped && Joined;
                LostReason = null;
            }

            _phase = null;
            _since = now;
        }

        public CloudMachine Adopt(CloudMachine machine)
        {
            MachineId = machine.Id;
            return machine;
        }

        /// <summary>When the phase began, as first seen here.</summary>
        public DateTimeOffset Seen(ProviderPhase phase, DateTimeOffset now)
        {
            if (_phase != phase)
            {
                _phase = phase;
                _since = now;
            }

            return _since;
        }
    }
}

/// <summary>Whether an instance's GPU-host silo has joined the cluster with its models loaded (the
/// only "ready" that counts), asked of the cluster's membership.</summary>
public interface IClusterJoin
{
    Task<bool> JoinedAsync(string instanceId, CancellationToken cancellationToken = default);
}
