using Actors.Grains.Instances;

namespace Actors.Fleet.Providers;

/// <summary>Delays, failure rates and prices for <see cref="SimulatedProvider"/>; the defaults
/// are the seeds' (003: rent + setup 30–60 min, resume 2–5 min, model load 30–60 s).</summary>
public sealed record SimulatedProviderOptions
{
    public (TimeSpan Min, TimeSpan Max) Rent { get; init; } = (TimeSpan.FromMinutes(30), TimeSpan.FromMinutes(60));

    public (TimeSpan Min, TimeSpan Max) Resume { get; init; } = (TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(5));

    public (TimeSpan Min, TimeSpan Max) ModelLoad { get; init; } = (TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(60));

    public (TimeSpan Min, TimeSpan Max) Stop { get; init; } = (TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30));

    public (TimeSpan Min, TimeSpan Max) Release { get; init; } = (TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(60));

    /// <summary>Chance that an accepted operation fails when it would have finished.</summary>
    public double FailureRate { get; init; } = 0.02;

    /// <summary>Chance that a rent is refused at once: the market has none (seed 003: "stopped
    /// instances may not be reclaimable for hours/days").</summary>
    public double UnavailableRate { get; init; } = 0.05;

    /// <summary>Spot preemptions per HOT hour (seed 001 recommends spot; the market takes
    /// instances back now and then).</summary>
    public double SpotPreemptionsPerHour { get; init; } = 0.01;

    public IReadOnlyList<GpuOffer> PriceList { get; init; } = DefaultPriceList;

    /// <summary>False: a cloud like Lambda, whose machines are running or gone — a rent brings one
    /// up with its models (rent + resume + load), stop is refused, release ends a running one.</summary>
    public bool CanStop { get; init; } = true;

    public int Seed { get; init; } = 1;

    /// <summary>Seed 000's TensorDock list and seed 003's RTX 4090 spot and on-demand rates; WARM
    /// (stopped, lease held) at seed 003's "~$0.05–0.10".</summary>
    public static readonly IReadOnlyList<GpuOffer> DefaultPriceList =
    [
        new("rtx-a4000", 0.22m, 0.05m, Spot: false, VramGb: 16),
        new("rtx-4090", 0.33m, 0.08m, Spot: false, VramGb: 24),
        new("rtx-a6000", 0.39m, 0.10m, Spot: false, VramGb: 48),
        new("rtx-4090-spot", 0.40m, 0.08m, Spot: true, VramGb: 24),
        new("rtx-4090-ondemand", 0.80m, 0.10m, Spot: false, VramGb: 24),
    ];
}

/// <summary>A provider in virtual time: operations take the configured (random, seeded) time on
/// the given <see cref="TimeProvider"/>, fail or are refused at the configured rates, and spot
/// instances are preempted. The state advances lazily whenever it is looked at, so a discrete-
/// event simulator can jump its clock.</summary>
public sealed class SimulatedProvider(SimulatedProviderOptions options, TimeProvider time) : IInstanceProvider
{
    private readonly Random _random = new(options.Seed);
    private readonly Dictionary<string, Machine> _machines = [];
    private readonly Lock _lock = new();

    public string Name => "simulated";

    public IReadOnlyList<GpuOffer> PriceList => options.PriceList;

    public ProviderCapabilities Capabilities { get; } = new(options.CanStop, options.PriceList.Any(o => o.Spot), options.CanStop,
        (options.Rent.Min + options.Rent.Max) / 2 + (options.CanStop ? TimeSpan.Zero : (options.Resume.Min + options.Resume.Max + options.ModelLoad.Min + options.ModelLoad.Max) / 2));

    public SimulatedProviderOptions Options => options;

    public Task<ProviderTicket> RentAsync(string instanceId, string gpuType, CancellationToken cancellationToken = default)
    {
        var offer = options.PriceList.FirstOrDefault(o => o.GpuType == gpuType)
            ?? throw new ProviderException("unknown_gpu", $"no offer for GPU type '{gpuType}'");
        lock (_lock)
        {
            var machine = Advance(instanceId);
            if (machine.Phase is not (ProviderPhase.Cold or ProviderPhase.Preempted) && !(machine.Phase == ProviderPhase.Failed && machine.Settled == InstanceState.Cold))
            {
                throw new ProviderException("invalid_state", $"instance '{instanceId}' is {machine.Phase}, not cold");
            }

            if (_random.NextDouble() < options.UnavailableRate)
            {
                throw new ProviderException("unavailable", $"no {gpuType} available to rent right now");
            }

            machine.Offer = offer;
            return Task.FromResult(options.CanStop
                ? Begin(machine, ProviderOperation.Rent, ProviderPhase.Renting, InstanceState.Warm, Draw(options.Rent))
                : Begin(machine, ProviderOperation.Rent, ProviderPhase.Renting, InstanceState.Hot, Draw(options.Rent) + Draw(options.Resume) + Draw(options.ModelLoad)));
        }
    }

    public Task<ProviderTicket> ResumeAsync(string instanceId, CancellationToken cancellationToken = default) =>
        Operate(instanceId, InstanceState.Warm, ProviderOperation.Resume, ProviderPhase.Resuming, InstanceState.Hot, () => Draw(options.Resume) + Draw(options.ModelLoad));

    public Task<ProviderTicket> StopAsync(string instanceId, CancellationToken cancellationToken = default) =>
        options.CanStop
            ? Operate(instanceId, InstanceState.Hot, ProviderOperation.Stop, ProviderPhase.Stopping, InstanceState.Warm, () => Draw(options.Stop))
            : throw new ProviderException("not_supported", $"provider '{Name}' cannot stop an instance (it runs, billed, or is gone): release it");

    public Task<ProviderTicket> ReleaseAsync(string instanceId, CancellationToken cancellationToken = default) =>
        Operate(instanceId, options.CanStop ? InstanceState.Warm : InstanceState.Hot, ProviderOperation.Release, ProviderPhase.Releasing, InstanceState.Cold, () => Draw(options.Release));

    public Task<ProviderStatus> StatusAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            var m = Advance(instanceId);
            return Task.FromResult(new ProviderStatus(instanceId, m.Phase, m.Settled, m.Since, m.Error));
        }
    }

    /// <summary>Puts an instance straight into a settled state (a fleet that exists when a
    /// simulation starts).</summary>
    public void ForceSettled(string instanceId, string gpuType, InstanceState state)
    {
        lock (_lock)
        {
            var m = Advance(instanceId);
            m.Offer = options.PriceList.FirstOrDefault(o => o.GpuType == gpuType) ?? throw new ProviderException("unknown_gpu", $"no offer for GPU type '{gpuType}'");
            m.Settled = state;
            m.Phase = PhaseOf(state);
            m.Since = time.GetUtcNow();
            if (m.Phase == ProviderPhase.Hot && m.Offer.Spot && options.SpotPreemptionsPerHour > 0)
            {
                m.PreemptAt = m.Since + TimeSpan.FromHours(Math.Min(-Math.Log(1 - _random.NextDouble()) / options.SpotPreemptionsPerHour, 24 * 365));
            }
        }
    }

    /// <summary>The offer an instance was rented from (null when never rented).</summary>
    public GpuOffer? OfferOf(string instanceId)
    {
        lock (_lock)
        {
            return _machines.GetValueOrDefault(instanceId)?.Offer;
        }
    }

    /// <summary>The next moment something happens on its own (an operation ends, a spot instance
    /// is preempted), for a simulator's event queue; null if nothing is pending.</summary>
    public DateTimeOffset? NextChange(string instanceId)
    {
        lock (_lock)
        {
            var m = Advance(instanceId);
            return m.Phase is ProviderPhase.Renting or ProviderPhase.Resuming or ProviderPhase.Stopping or ProviderPhase.Releasing
                ? m.ReadyAt
                : m.Phase == ProviderPhase.Hot ? m.PreemptAt : null;
        }
    }

    private Task<ProviderTicket> Operate(string instanceId, InstanceState from, ProviderOperation operation, ProviderPhase phase, InstanceState to, Func<TimeSpan> duration)
    {
        lock (_lock)
        {
            var machine = Advance(instanceId);
            var settledThere = machine.Phase is ProviderPhase.Failed ? machine.Settled == from : machine.Phase == PhaseOf(from);
            if (!settledThere)
            {
                throw new ProviderException("invalid_state", $"instance '{instanceId}' is {machine.Phase}; {operation} needs it {from}");
            }

            return Task.FromResult(Begin(machine, operation, phase, to, duration()));
        }
    }

    private ProviderTicket Begin(Machine machine, ProviderOperation operation, ProviderPhase phase, InstanceState to, TimeSpan duration)
    {
        var now = time.GetUtcNow();
        machine.Phase = phase;
        machine.Target = to;
        machine.Since = now;
        machine.ReadyAt = now + duration;
        machine.WillFail = _random.NextDouble() < options.FailureRate;
        machine.Error = null;
        machine.PreemptAt = null;
        return new ProviderTicket(machine.Id, operation, now, duration);
    }

    private Machine Advance(string instanceId)
    {
        if (!_machines.TryGetValue(instanceId, out var m))
        {
            m = new Machine(instanceId) { Since = time.GetUtcNow() };
            _machines[instanceId] = m;
        }

        var now = time.GetUtcNow();
        if (m.Phase is ProviderPhase.Renting or ProviderPhase.Resuming or ProviderPhase.Stopping or ProviderPhase.Releasing && now >= m.ReadyAt)
        {
            if (m.WillFail)
            {
                m.Error = $"{m.Phase} failed at the provider";
                m.Phase = ProviderPhase.Failed;
            }
            else
            {
                m.Settled = m.Target;
                m.Phase = PhaseOf(m.Target);
                if (m.Phase == ProviderPhase.Hot && m.Offer is { Spot: true } && options.SpotPreemptionsPerHour > 0)
                {
                    var hours = -Math.Log(1 - _random.NextDouble()) / options.SpotPreemptionsPerHour;
                    m.PreemptAt = m.ReadyAt + TimeSpan.FromHours(Math.Min(hours, 24 * 365));
                }
            }

            m.Since = m.ReadyAt;
        }

        if (m.Phase == ProviderPhase.Hot && m.PreemptAt is { } at && now >= at)
        {
            m.Phase = ProviderPhase.Preempted;
            m.Settled = InstanceState.Cold;
            m.Since = at;
            m.Error = "spot instance preempted";
            m.PreemptAt = null;
        }

        return m;
    }

    private static ProviderPhase PhaseOf(InstanceState state) => state switch
    {
        InstanceState.Cold => ProviderPhase.Cold,
        InstanceState.Warm => ProviderPhase.Warm,
        _ => ProviderPhase.Hot,
    };

    private TimeSpan Draw((TimeSpan Min, TimeSpan Max) range) =>
        range.Min + (range.Max - range.Min) * _random.NextDouble();

    private sealed class Machine(string id)
    {
        public string Id { get; } = id;

        public ProviderPhase Phase { get; set; } = ProviderPhase.Cold;

        public InstanceState Settled { get; set; } = InstanceState.Cold;

        public InstanceState Target { get; set; }

        public DateTimeOffset Since { get; set; }

        public DateTimeOffset ReadyAt { get; set; }

        public DateTimeOffset? PreemptAt { get; set; }

        public bool WillFail { get; set; }

        public string? Error { get; set; }

        public GpuOffer? Offer { get; set; }
    }
}
