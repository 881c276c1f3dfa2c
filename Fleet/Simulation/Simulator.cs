using System.Diagnostics;
using Actors.Fleet.Planning;
using Actors.Fleet.Policies;
using Actors.Fleet.Providers;
using Actors.Grains.Instances;
using Actors.Grains.Tenants;
using Actors.Grains.Jobs;

namespace Actors.Fleet.Simulation;

/// <summary>Discrete-event simulation in virtual time: a trace's jobs queue by tier (the real
/// queue's ordering, <see cref="TierAging"/>), run one at a time on HOT instances, and a policy
/// — the same code the pool grain runs — decides every tick; its actions go to a
/// <see cref="SimulatedProvider"/> on the same virtual clock.</summary>
public sealed class Simulator
{
    private readonly SimulationOptions _o;
    private readonly IPoolPolicy _policy;
    private readonly VirtualClock _clock;
    private readonly SimulatedProvider _provider;
    private readonly Random _random;
    private readonly PriorityQueue<(Kind Kind, string? Instance), (double, long)> _events = new();
    private readonly Dictionary<string, Machine> _machines = new(StringComparer.Ordinal);
    private readonly Queue<Job>[] _queues = [new(), new(), new(), new()];
    private readonly List<double>[] _waits = [[], [], [], []];
    private readonly List<double>[] _zeroWaits = [[], [], [], []];
    private readonly int[] _onSpot = new int[4];
    private readonly int[] _arrived = new int[4], _refused = new int[4], _expired = new int[4], _arrivalsSinceTick = new int[4];
    private readonly double[] _rate = new double[4];
    private readonly bool[] _refusing = new bool[4];
    private readonly Dictionary<string, double> _hours = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _actions = new(StringComparer.Ordinal);
    private readonly List<Sample> _timeline = [];
    private readonly double _sigma, _mu;
    private PoolMemory _memory = new();
    private double _now, _lastAccrual, _lastTick, _serviceEstimate, _lastArrival = double.NaN, _lostWorkSeconds;
    private decimal _cost, _spentToday, _maxDaily;
    private long _seq, _events_;
    private int _nextId, _maxInstances, _day;

    private enum Kind
    {
        Tick,
        JobDone,
        Provider,
        Sample,
    }

    public Simulator(IPoolPolicy policy, SimulationOptions options)
    {
        _o = options;
        _policy = policy;
        _clock = new VirtualClock(options.Start);
        _provider = new SimulatedProvider(options.Provider with { Seed = options.Seed }, _clock);
        _random = new Random(options.Seed);
        _serviceEstimate = options.ServiceSeconds;
        _sigma = Math.Sqrt(Math.Log(1 + options.ServiceCv * options.ServiceCv));
        _mu = Math.Log(options.ServiceSeconds) - _sigma * _sigma / 2;
    }

    public static SimulationResult Run(IReadOnlyList<Arrival> trace, IPoolPolicy policy, SimulationOptions options, IProgress<double>? progress = null) =>
        new Simulator(policy, options).Run(trace, progress);

    private SimulationResult Run(IReadOnlyList<Arrival> trace, IProgress<double>? progress)
    {
        var wall = Stopwatch.StartNew();
        var end = trace.Count == 0 ? 86400 : Math.Ceiling(trace[^1].AtSeconds / 86400) * 86400;
        StartFleet();
        Schedule(0, Kind.Tick, null);
        Schedule(0, Kind.Sample, null);
        var next = 0;
        var reported = -1;
        var sameTime = 0;
        while (true)
        {
            var eventTime = _events.TryPeek(out _, out var key) ? key.Item1 : double.PositiveInfinity;
            var arrivalTime = next < trace.Count ? trace[next].AtSeconds : double.PositiveInfinity;
            var t = Math.Min(eventTime, arrivalTime);
            if (t > end)
            {
                break;
            }

            sameTime = t == _now ? sameTime + 1 : 0;
            if (sameTime > 1_000_000)
            {
                throw new InvalidOperationException($"simulation stuck at {t:0.###} s: next event {(_events.TryPeek(out var stuck, out _) ? stuck.Kind + " " + stuck.Instance : "arrival")}");
            }

            Advance(t);
            _events_++;
            if (arrivalTime <= eventTime)
            {
                Arrive(trace[next++]);
            }
            else
            {
                var (kind, instance) = _events.Dequeue();
                switch (kind)
                {
                    case Kind.Tick:
                        Decide();
                        Schedule(_now + _o.Tick.TotalSeconds, Kind.Tick, null);
                        break;
                    case Kind.JobDone:
                        JobDone(instance!);
                        break;
                    case Kind.Provider:
                        ProviderChanged(instance!);
                        break;
                    case Kind.Sample:
                        TakeSample();
                        Schedule(_now + _o.SampleEvery.TotalSeconds, Kind.Sample, null);
                        break;
                }
            }

            var percent = (int)(100 * _now / end);
            if (percent != reported)
            {
                reported = percent;
                progress?.Report(percent / 100.0);
            }
        }

        Advance(end);
        progress?.Report(1);
        var tiers = Enum.GetValues<Tier>().Select(tier =>
        {
            var w = _waits[(int)tier];
            w.Sort();
            var z = _zeroWaits[(int)tier];
            z.Sort();
            return new TierStats(tier, _arrived[(int)tier], w.Count, _refused[(int)tier], _expired[(int)tier],
                Percentile(w, 0.50), Percentile(w, 0.95), Percentile(w, 0.99), w.Count == 0 ? 0 : w[^1])
            {
                FromZero = z.Count,
                OnSpot = _onSpot[(int)tier],
                FromZeroP50Seconds = Percentile(z, 0.50),
                FromZeroMaxSeconds = z.Count == 0 ? 0 : z[^1],
            };
        }).ToList();
        return new SimulationResult(_policy.Name, end / 86400, Math.Round(_cost, 2), tiers, _hours, _actions, _timeline)
        {
            MaxInstances = _maxInstances,
            MaxDailySpendUsd = Math.Round(Math.Max(_maxDaily, _spentToday), 2),
            Events = _events_,
            WallTime = wall.Elapsed,
            LostWorkSeconds = Math.Round(_lostWorkSeconds, 1),
        };
    }

    private void StartFleet()
    {
        // The starting fleet is already there (rented and, for the primary, running); a provider
        // that cannot stop holds no WARM standby.
        for (var i = 0; i < _o.InitialHot + (_provider.Capabilities.CanStop ? _o.InitialWarm : 0); i++)
        {
            var machine = NewMachine();
            _provider.ForceSettled(machine.Id, _o.GpuType, i < _o.InitialHot ? InstanceState.Hot : InstanceState.Warm);
            ScheduleProviderCheck(machine.Id);
        }

    }

    private Machine NewMachine()
    {
        var machine = new Machine($"i-{++_nextId:000}");
        _machines[machine.Id] = machine;
        _maxInstances = Math.Max(_maxInstances, _machines.Count);
        return machine;
    }

    private void Arrive(Arrival a)
    {
        var tier = (int)a.Tier;
        _lastArrival = a.AtSeconds;
        _arrived[tier]++;
        _arrivalsSinceTick[tier]++;
        if (_refusing[tier])
        {
            _refused[tier]++;
            return;
        }

        var fromZero = !_machines.Keys.Any(id => Status(id).Running);
        _queues[tier].Enqueue(new Job(a.AtSeconds, a.Tier, fromZero));
        DispatchAll();
    }

    private void DispatchAll()
    {
        foreach (var machine in _machines.Values)
        {
            if (machine.Running is null && Status(machine.Id).Running)
            {
                Dispatch(machine);
            }
        }
    }

    private void Dispatch(Machine machine)
    {
        var spot = _provider.OfferOf(machine.Id)?.Spot == true;
        while (NextJob(spot) is { } job)
        {
            var wait = _now - job.EnqueuedAt;
            if (job.Tier == Tier.Free && wait > _o.FreeMaxWaitSeconds)
            {
                _expired[(int)Tier.Free]++;
                continue;
            }

            machine.Running = job;
            machine.Wait = wait; // counted when it ends: a job stopped under and run again counts once
            var service = Math.Exp(_mu + _sigma * Normal()) * machine.ServiceFactor;
            machine.StartedAt = _now;
            Schedule(_now + service, Kind.JobDone, machine.Id);
            machine.Version++;
            machine.DoneVersion = machine.Version;
            return;
        }
    }

    /// <summary>How much longer a job takes on <paramref name="gpuType"/> than on the pool's own GPU,
    /// from seed 000's throughput per hour (service, batch factor, overhead); 1 where either type
    /// has no seed profile.</summary>
    private double ServiceFactor(string gpuType) =>
        GpuProfile.ForType(gpuType) is { } gpu && GpuProfile.ForType(_o.GpuType) is { } pool ? pool.PerHour / gpu.PerHour : 1;

    /// <summary>The next job in the real queue's order; on a spot machine, none of a tier that
    /// needs on-demand capacity (<see cref="SimulationOptions.OnDemandTiers"/>).</summary>
    private Job? NextJob(bool spot)
    {
        var best = -1;
        var bestAt = double.PositiveInfinity;
        for (var tier = 0; tier < 4; tier++)
        {
            if (spot && _o.OnDemandTiers.Contains((Tier)tier))
            {
                continue;
            }

            if (_queues[tier].TryPeek(out var head))
            {
                var readyAt = head.EnqueuedAt - TierAging.HeadStart[tier].TotalSeconds;
                if (readyAt < bestAt)
                {
                    bestAt = readyAt;
                    best = tier;
                }
            }
        }

        return best < 0 ? null : _queues[best].Dequeue();
    }

    private void JobDone(string id)
    {
        if (!_machines.TryGetValue(id, out var machine) || machine.Running is null || machine.DoneVersion != machine.Version)
        {
            return; // the job was taken back (instance stopped or preempted) before it ended
        }

        var service = _now - machine.StartedAt;
        _serviceEstimate += 0.01 * (service - _serviceEstimate);
        var done = machine.Running;
        _waits[(int)done.Tier].Add(machine.Wait);
        if (_provider.OfferOf(id)?.Spot == true)
        {
            _onSpot[(int)done.Tier]++;
        }

        if (done.FromZero)
        {
            _zeroWaits[(int)done.Tier].Add(machine.Wait);
        }

        machine.Running = null;
        if (Status(id).Running)
        {
            Dispatch(machine);
        }
    }

    private void ProviderChanged(string id)
    {
        if (!_machines.TryGetValue(id, out var machine))
        {
            return;
        }

        var status = Status(id);
        if (status.Phase is ProviderPhase.Failed)
        {
            Count($"failed:{status.Error}");
        }

        if (status.Phase == ProviderPhase.Preempted)
        {
            Count("preempted");
        }

        if (!status.Running && !status.InFlight && machine.Running is { } job)
        {
            // Stopped or lost under a job: back to the head of its queue, its wait goes on; the
            // work it had done is lost (run again).
            _lostWorkSeconds += _now - machine.StartedAt;
            RequeueFront(job);
            machine.Running = null;
            machine.Version++;
            Count("jobs requeued");
        }

        if (status.Phase == ProviderPhase.Warm && machine.ResumeWhenWarm)
        {
            machine.ResumeWhenWarm = false;
            Try(() => _provider.ResumeAsync(id), "resume");
        }
        else if (status.Settled == InstanceState.Cold && !status.InFlight)
        {
            _machines.Remove(id);
        }

        if (status.Running && machine.Running is null)
        {
            Dispatch(machine);
        }

        ScheduleProviderCheck(id);
    }

    private void RequeueFront(Job job)
    {
        var queue = _queues[(int)job.Tier];
        var rest = queue.ToArray();
        queue.Clear();
        queue.Enqueue(job);
        foreach (var j in rest)
        {
            queue.Enqueue(j);
        }
    }

    private void Decide()
    {
        var dt = Math.Max(1e-9, _now - _lastTick);
        var alpha = 1 - Math.Exp(-dt / 300);
        for (var tier = 0; tier < 4; tier++)
        {
            _rate[tier] += alpha * (_arrivalsSinceTick[tier] / dt - _rate[tier]);
            _arrivalsSinceTick[tier] = 0;
        }

        _lastTick = _now;
        var views = _machines.Values.Select(View).ToList();
        var queues = Enum.GetValues<Tier>().ToDictionary(t => t, t =>
        {
            var q = _queues[(int)t];
            return new TierQueue(q.Count, q.TryPeek(out var head) ? _now - head.EnqueuedAt : 0, _rate[(int)t]);
        });
        var snapshot = new PoolSnapshot(_clock.GetUtcNow(), views, queues, _serviceEstimate, _spentToday, _o.Limits, _memory)
        {
            GpuType = _o.GpuType,
            PriceList = _provider.PriceList,
            Capabilities = _provider.Capabilities,
            LastArrivalAt = double.IsNaN(_lastArrival) ? null : _o.Start.AddSeconds(_lastArrival),
        };
        var decision = _policy.Decide(snapshot);
        _memory = decision.Memory;
        Array.Clear(_refusing);
        foreach (var action in decision.Actions)
        {
            Apply(action);
        }
    }

    private void Apply(PoolAction action)
    {
        switch (action)
        {
            case RentAction rent:
                var machine = NewMachine();
                machine.ResumeWhenWarm = rent.ResumeWhenWarm;
                machine.ServiceFactor = ServiceFactor(rent.GpuType);
                if (!Try(() => _provider.RentAsync(machine.Id, rent.GpuType), "rent"))
                {
                    _machines.Remove(machine.Id);
                    _memory = _memory with { RentBackoffUntil = _clock.GetUtcNow().AddMinutes(5) };
                }
                else
                {
                    Count($"rented:{rent.GpuType}");
                    ScheduleProviderCheck(machine.Id);
                }

                break;
            case ResumeAction resume:
                if (Try(() => _provider.ResumeAsync(resume.InstanceId), "resume"))
                {
                    ScheduleProviderCheck(resume.InstanceId);
                }

                break;
            case StopAction stop:
                if (Try(() => _provider.StopAsync(stop.InstanceId), "stop"))
                {
                    ScheduleProviderCheck(stop.InstanceId);
                }

                break;
            case ReleaseAction release:
                if (Try(() => _provider.ReleaseAsync(release.InstanceId), "release"))
                {
                    ScheduleProviderCheck(release.InstanceId);
                }

                break;
            case RefuseTierAction refuse:
                _refusing[(int)refuse.Tier] = true;
                break;
            case AlertAction alert:
                Count($"alert:{alert.Name}");
                break;
        }
    }

    private bool Try(Func<Task<ProviderTicket>> call, string what)
    {
        try
        {
            call().GetAwaiter().GetResult();
            Count(what);
            return true;
        }
        catch (ProviderException e)
        {
            Count($"{what} refused:{e.Code}");
            return false;
        }
    }

    private void ScheduleProviderCheck(string id)
    {
        if (_provider.NextChange(id) is { } at)
        {
            // A millisecond late: seconds → ticks → seconds may round the clock short of the change.
            Schedule(Math.Max(_now, (at - _o.Start).TotalSeconds + 0.001), Kind.Provider, id);
        }
    }

    private InstanceView View(Machine m)
    {
        var status = Status(m.Id);
        var offer = _provider.OfferOf(m.Id) ?? new GpuOffer(_o.GpuType, 0, 0, false);
        InstanceState? pending = status.Phase switch
        {
            ProviderPhase.Renting => _provider.Capabilities.CanStop ? InstanceState.Warm : InstanceState.Hot,
            ProviderPhase.Resuming => InstanceState.Hot,
            ProviderPhase.Stopping => InstanceState.Warm,
            ProviderPhase.Releasing => InstanceState.Cold,
            _ => null,
        };
        var state = status.Settled == InstanceState.Hot && m.Running is not null ? InstanceState.Serving : status.Settled;
        return new InstanceView(m.Id, offer.GpuType, state, status.Since, offer.HotPerHour, offer.WarmPerHour) { Pending = pending };
    }

    private ProviderStatus Status(string id) => _provider.StatusAsync(id).GetAwaiter().GetResult();

    /// <summary>Moves the clock, charging every instance for the time since the last event at
    /// the rate of where it was.</summary>
    private void Advance(double t)
    {
        var dt = t - _lastAccrual;
        if (dt > 0)
        {
            foreach (var m in _machines.Values)
            {
                var view = View(m);
                var perHour = view.CurrentPerHour;
                var cost = perHour * (decimal)(dt / 3600);
                _cost += cost;
                _spentToday += cost;
                var bucket = view.Pending switch
                {
                    InstanceState.Warm when view.State == InstanceState.Cold => "renting",
                    InstanceState.Hot => "starting",
                    _ => view.State.ToString().ToLowerInvariant(),
                };
                _hours[bucket] = _hours.GetValueOrDefault(bucket) + dt / 3600;
            }

            _lastAccrual = t;
        }

        _now = t;
        _clock.MoveTo(_o.Start.AddSeconds(t));
        var day = (int)(t / 86400);
        if (day != _day)
        {
            _maxDaily = Math.Max(_maxDaily, _spentToday);
            _spentToday = 0;
            _day = day;
        }
    }

    private void TakeSample()
    {
        var views = _machines.Values.Select(View).ToList();
        _timeline.Add(new Sample(_now / 3600, _queues.Sum(q => q.Count),
            views.Count(v => v.Renting), views.Count(v => v.State == InstanceState.Warm && v.Pending != InstanceState.Hot),
            views.Count(v => v.Pending == InstanceState.Hot), views.Count(v => v.State == InstanceState.Hot && v.Pending is null),
            views.Count(v => v.State == InstanceState.Serving), Math.Round(_cost, 2)));
    }

    private void Schedule(double at, Kind kind, string? instance) => _events.Enqueue((kind, instance), (at, _seq++));

    private void Count(string what) => _actions[what] = _actions.GetValueOrDefault(what) + 1;

    private double Normal()
    {
        var u1 = 1 - _random.NextDouble();
        var u2 = _random.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    private static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? 0 : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];

    /// <summary><paramref name="FromZero"/>: it arrived with no instance running (it waits for a start).</summary>
    private sealed record Job(double EnqueuedAt, Tier Tier, bool FromZero);

    private sealed class Machine(string id)
    {
        public string Id { get; } = id;

        public Job? Running { get; set; }

        public double StartedAt { get; set; }

        /// <summary>How long the running job waited before it started (this run).</summary>
        public double Wait { get; set; }

        public bool ResumeWhenWarm { get; set; }

        /// <summary>Its GPU's service time relative to the pool's own type (1 for the same GPU).</summary>
        public double ServiceFactor { get; set; } = 1;

        public long Version { get; set; }

        public long DoneVersion { get; set; }
    }
}
