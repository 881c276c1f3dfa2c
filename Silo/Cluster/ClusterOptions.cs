namespace Actors.Silo.Cluster;

/// <summary>Section "Cluster": which store, which roles this silo plays, and the timings of
/// heartbeats, leases and retention.</summary>
public sealed class ClusterOptions
{
    public const string Section = "Cluster";

    /// <summary>"sqlite" (embedded, the default) or "postgres".</summary>
    public string Store { get; set; } = "sqlite";

    /// <summary>Npgsql connection string when <see cref="Store"/> is postgres.</summary>
    public string ConnectionString { get; set; } = "";

    /// <summary>Redis (StackExchange.Redis configuration, e.g. "redis:6379") where the silos of a
    /// cluster meet (Orleans' Redis clustering). Empty: this silo is a cluster of its own
    /// (localhost clustering), as the embedded mode is.</summary>
    public string Redis { get; set; } = "";

    /// <summary>Orleans' cluster and service ids: silos with the same ids on the same Redis form
    /// one cluster; the service id also keys grain state and reminders in the store.</summary>
    public string ClusterId { get; set; } = "actors";

    public string ServiceId { get; set; } = "actors";

    /// <summary>Orleans' silo-to-silo and client gateway ports on this machine; 0 picks free ones.</summary>
    public int SiloPort { get; set; }

    public int GatewayPort { get; set; }

    /// <summary>The address other silos reach this one at: an IP or a host name (a container's
    /// service name); default 127.0.0.1.</summary>
    public string AdvertisedAddress { get; set; } = "127.0.0.1";

    /// <summary>Orleans' shortest reminder period (seconds), for short billing checks in tests.</summary>
    public double MinimumReminderSeconds { get; set; } = 1;

    /// <summary>SQLite file, blobs and generated keys live here.</summary>
    public string DataPath { get; set; } = "data";

    /// <summary>Comma-separated: api, control, gpu.</summary>
    public string Roles { get; set; } = "api,control,gpu";

    /// <summary>Default: generated per process start (a dead silo rejoins under a new id).</summary>
    public string? SiloId { get; set; }

    /// <summary>The instance a gpu silo serves; default "local-{machine name}".</summary>
    public string? InstanceId { get; set; }

    public string GpuType { get; set; } = "local";

    /// <summary>A gpu silo starts WARM: up and registered, models not loaded, claiming nothing
    /// until it is resumed (POST /admin/host/resume) — how a provider's instance starts.</summary>
    public bool StartWarm { get; set; }

    /// <summary>Orleans' failure detection: a silo missing <see cref="MissedProbes"/> probes of this
    /// timeout in a row is declared dead and what it held is recovered.</summary>
    public double ProbeSeconds { get; set; } = 2;

    public int MissedProbes { get; set; } = 3;

    public double LeaseSeconds { get; set; } = 15;

    /// <summary>How often an idle GPU host looks at the queue when nothing woke it.</summary>
    public double PollMilliseconds { get; set; } = 100;

    /// <summary>Jobs a GPU host holds per model, as a multiple of the model's batch size.</summary>
    public int InFlightBatches { get; set; } = 2;

    /// <summary>A fixed number of jobs held per model instead (0: derived from the batch size).</summary>
    public int MaxInFlightPerModel { get; set; }

    public double DrainSeconds { get; set; } = 30;

    public double MaxQueueMinutes { get; set; } = 60;

    /// <summary>Idempotency keys are kept this long; finished jobs' records at least this long and
    /// never shorter than the longest output retention any plan gives (their outputs stay readable).</summary>
    public double RetentionHours { get; set; } = 24;

    public double HousekeepingSeconds { get; set; } = 30;

    /// <summary>A tenant's erasure goes through its jobs this many per grain call (8 at a time).</summary>
    public int ErasureJobsPerPass { get; set; } = 200;

    /// <summary>Embedded mode: create tenant "demo" and an admin key on first start (saved under DataPath).</summary>
    public bool CreateDemoTenant { get; set; } = true;

    public bool IsPostgres => Store.Equals("postgres", StringComparison.OrdinalIgnoreCase);

    public bool Has(string role) => RoleSet.Contains(role);

    public IReadOnlySet<string> RoleSet =>
        Roles.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(r => r.ToLowerInvariant()).ToHashSet();
}
