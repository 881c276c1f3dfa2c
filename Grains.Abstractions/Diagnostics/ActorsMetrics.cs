using System.Diagnostics.Metrics;

namespace Actors.Grains.Diagnostics;

/// <summary>The cluster's own instruments (meter "Actors"), named by Prometheus conventions once
/// exported: base units, counters end in _total. Gauges that need the store (queue depth,
/// instances by state, cost) are observed from <see cref="FleetGaugeValues"/>, which the silo
/// refreshes in the background.</summary>
public static class ActorsMetrics
{
    public const string MeterName = "Actors";

    public static readonly Meter Meter = new(MeterName, "1.0");

    public static readonly Counter<long> JobsSubmitted = Meter.CreateCounter<long>("actors.jobs.submitted", "{job}", "Jobs accepted, by model and tier");

    public static readonly Counter<long> JobsFinished = Meter.CreateCounter<long>("actors.jobs.finished", "{job}", "Jobs that reached a final state, by model, tier and outcome");

    public static readonly Counter<long> AdmissionsRefused = Meter.CreateCounter<long>("actors.admissions.refused", "{job}", "Submissions refused by the tenant, by reason");

    public static readonly Counter<long> CacheLookups = Meter.CreateCounter<long>("actors.cache.lookups", "{lookup}", "Result-cache lookups by result (hit, miss)");

    public static readonly Histogram<double> QueueWait = Meter.CreateHistogram<double>("actors.queue.wait", "s", "Time from queued to started, by model and tier");

    public static readonly Histogram<double> InferenceDuration = Meter.CreateHistogram<double>("actors.inference.duration", "s", "Model run time per job, by model");

    public static readonly Counter<double> CreditsConsumed = Meter.CreateCounter<double>("actors.credits.consumed", "{credit}", "Credits charged to tenants when jobs settle");

    public static readonly Counter<long> PoolActions = Meter.CreateCounter<long>("actors.pool.actions", "{action}", "Autoscaler actions by kind (rent, resume, stop, release, refuse) and result (ok, error)");

    public static readonly Counter<long> PoolAlerts = Meter.CreateCounter<long>("actors.pool.alerts", "{alert}", "Autoscaler alerts by name (budget_cap, max_instances)");

    public static readonly Counter<long> PoolOfferDecisions = Meter.CreateCounter<long>("actors.pool.offer.decisions", "{decision}",
        "The pool's choice among its offers when it rents, by provider and outcome (rented, unavailable, failed, backing_off, over_price, over_budget)");

    public static readonly Counter<long> CloudOrphansTerminated = Meter.CreateCounter<long>("actors.cloud.orphans.terminated", "{machine}",
        "Machines with the cluster's prefix that no instance held, terminated by reconciliation, by cloud");

    public static readonly Counter<long> CloudMachinesLost = Meter.CreateCounter<long>("actors.cloud.machines.lost", "{machine}",
        "Rented machines found lost (spot preemption, stopped or failed by the cloud, silo silent), by provider");

    public static readonly Counter<long> CloudRentsFailed = Meter.CreateCounter<long>("actors.cloud.rents.failed", "{rent}",
        "Rents whose machine never joined the cluster in time (released), by provider");

    public static readonly Gauge<long> CloudMachines = Meter.CreateGauge<long>("actors.cloud.machines", "{machine}",
        "Machines of ours each cloud lists and an instance holds, at the last reconciliation");

    public static readonly Counter<long> WebhookDeliveries = Meter.CreateCounter<long>("actors.webhook.deliveries", "{delivery}", "Webhook delivery attempts by result");

    public static readonly Histogram<double> GrainTurn = Meter.CreateHistogram<double>("actors.grain.turn.duration", "s", "Grain call latency on the silo that runs it (queueing in the activation not included), by grain interface");

    public static readonly Histogram<double> ReminderLag = Meter.CreateHistogram<double>("actors.reminder.lag", "s", "How late reminders fire");

    public static readonly Counter<long> BlobsDeleted = Meter.CreateCounter<long>("actors.blobs.deleted", "{object}", "Blob objects deleted from the store, by reason (retention, erasure)");

    private static readonly FleetGaugeValues Values = new();
    private static volatile Measurement<long>[] _blobBytes = [];
    private static volatile Measurement<long>[] _blobObjects = [];
    private static double _serviceSeconds = double.NaN;

    static ActorsMetrics()
    {
        Meter.CreateObservableGauge("actors.queue.depth", () => Values.QueueDepth, "{job}", "Jobs waiting, by model and tier");
        Meter.CreateObservableGauge("actors.instances", () => Values.Instances, "{instance}", "Instances by state and GPU type");
        Meter.CreateObservableGauge("actors.instance.accrued.dollars", () => Values.AccruedUsd, "{USD}", "Cost accrued by each instance, dollars");
        Meter.CreateObservableGauge("actors.fleet.dollars.per.hour", () => Values.UsdPerHour, "{USD}/h", "What the fleet costs per hour now, dollars");
        Meter.CreateObservableGauge("actors.instance.health", () => Values.Health, "1", "1 for the instance's current health (ok, degraded, down), 0 for the others");
        Meter.CreateObservableGauge("actors.pool.service.seconds", ServiceSeconds, "s", "The autoscaler's measured service time: seconds SERVING per job run (absent until measured)");
        Meter.CreateObservableGauge("actors.blobs.stored.bytes", () => _blobBytes, "By", "Bytes of blobs kept in the object store, by class (input, output), as of the last housekeeping pass");
        Meter.CreateObservableGauge("actors.blobs.stored.objects", () => _blobObjects, "{object}", "Blob objects kept in the object store, by class, as of the last housekeeping pass");
        Meter.CreateObservableGauge("actors.host.memory.available", () => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes, "By", "Memory this process may use (the machine's or the container's limit)");
    }

    /// <summary>What the object store keeps per class, reported by the housekeeping pass.</summary>
    public static void RecordBlobTotals(IEnumerable<(string Class, long Objects, long Bytes)> totals)
    {
        var list = totals.ToList();
        _blobBytes = [.. list.Select(t => new Measurement<long>(t.Bytes, new KeyValuePair<string, object?>("class", t.Class)))];
        _blobObjects = [.. list.Select(t => new Measurement<long>(t.Objects, new KeyValuePair<string, object?>("class", t.Class)))];
    }

    /// <summary>The pool's measured service time, reported by the silo that ran its tick.</summary>
    public static void RecordServiceSeconds(double seconds) => Volatile.Write(ref _serviceSeconds, seconds);

    private static IEnumerable<Measurement<double>> ServiceSeconds() =>
        Volatile.Read(ref _serviceSeconds) is var v && !double.IsNaN(v) ? [new Measurement<double>(v)] : [];

    /// <summary>The latest store readings the gauges report (replaced whole by the refresher).</summary>
    public static FleetGaugeValues Gauges => Values;
}

/// <summary>Latest values for the store-backed gauges.</summary>
public sealed class FleetGaugeValues
{
    private volatile Snapshot _now = new([], [], [], [], []);

    public IEnumerable<Measurement<long>> QueueDepth => _now.QueueDepth;

    public IEnumerable<Measurement<long>> Instances => _now.Instances;

    public IEnumerable<Measurement<double>> AccruedUsd => _now.AccruedUsd;

    public IEnumerable<Measurement<double>> UsdPerHour => _now.UsdPerHour;

    public IEnumerable<Measurement<long>> Health => _now.Health;

    public void Set(IReadOnlyList<Measurement<long>> queueDepth, IReadOnlyList<Measurement<long>> instances, IReadOnlyList<Measurement<double>> accrued, IReadOnlyList<Measurement<double>> rate, IReadOnlyList<Measurement<long>> health) =>
        _now = new Snapshot(queueDepth, instances, accrued, rate, health);

    private sealed record Snapshot(IReadOnlyList<Measurement<long>> QueueDepth, IReadOnlyList<Measurement<long>> Instances, IReadOnlyList<Measurement<double>> AccruedUsd, IReadOnlyList<Measurement<double>> UsdPerHour, IReadOnlyList<Measurement<long>> Health);
}
