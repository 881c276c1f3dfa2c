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

    /// <summary>SQLite file, blobs and generated keys live here.</summary>
    public string DataPath { get; set; } = "data";

    /// <summary>Where blobs are kept; in a cluster every silo must see the same folder. Default: {DataPath}/blobs.</summary>
    public string? BlobPath { get; set; }

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

    public double HeartbeatSeconds { get; set; } = 2;

    /// <summary>A silo missing this many beats is dead and what it held is recovered.</summary>
    public int DeadAfterBeats { get; set; } = 5;

    public double LeaseSeconds { get; set; } = 15;

    /// <summary>How often an idle GPU host looks at the queue when nothing woke it.</summary>
    public double PollMilliseconds { get; set; } = 100;

    /// <summary>Jobs a GPU host holds per model, as a multiple of the model's batch size.</summary>
    public int InFlightBatches { get; set; } = 2;

    /// <summary>A fixed number of jobs held per model instead (0: derived from the batch size).</summary>
    public int MaxInFlightPerModel { get; set; }

    public double DrainSeconds { get; set; } = 30;

    public double MaxQueueMinutes { get; set; } = 60;

    public double RetentionHours { get; set; } = 24;

    public double HousekeepingSeconds { get; set; } = 30;

    /// <summary>Embedded mode: create tenant "demo" and an admin key on first start (saved under DataPath).</summary>
    public bool CreateDemoTenant { get; set; } = true;

    public bool IsPostgres => Store.Equals("postgres", StringComparison.OrdinalIgnoreCase);

    public bool Has(string role) => RoleSet.Contains(role);

    public IReadOnlySet<string> RoleSet =>
        Roles.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(r => r.ToLowerInvariant()).ToHashSet();
}
