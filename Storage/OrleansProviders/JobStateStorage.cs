using System.Globalization;
using Actors.Grains.Jobs;
using Actors.Storage.Sql;
using Dapper;
using Orleans.Runtime;
using Orleans.Storage;

namespace Actors.Storage.OrleansProviders;

/// <summary>The job grain's state provider: a job is one row of <c>jobs</c> — its state (JSON),
/// its version (the ETag) and the columns listings, analytics and housekeeping read (tenant,
/// model, tier, status, times) — written in <b>one statement</b> per transition, the same SQL on
/// PostgreSQL and SQLite. Before, a transition was a state write to <c>OrleansStorage</c> and an
/// index upsert after it (two statements, and a crash between them left a stale listing).
/// <para>A write applies only over the version it read (a stale activation's write changes
/// nothing and fails with <see cref="InconsistentStateException"/>, as Orleans' own providers do);
/// a first write expects no state. Migration 011 moved the states stored before.</para>
/// <para>Writes of many job grains share a statement (<see cref="GroupCommit{TItem,TResult}"/>):
/// on PostgreSQL one multi-row upsert per round trip, each row applied only over its own version;
/// on SQLite one transaction (one commit) for the batch. An ended job's webhook delivery is
/// written in the same statement (transaction) as its state: there is no moment where the job
/// has ended and its delivery is not owed.</para></summary>
public sealed class JobStateStorage : IGrainStorage
{
    private readonly SqlStore store;
    private readonly TimeProvider time;
    private readonly GroupCommit<Row, long?> _writes;

    public JobStateStorage(SqlStore store, TimeProvider time)
    {
        this.store = store;
        this.time = time;
        _writes = new GroupCommit<Row, long?>(WriteBatchAsync, row => row.Id);
    }
    /// <summary>The provider's name (<c>[PersistentState("job", JobStateStorage.Name)]</c>).</summary>
    public const string Name = "jobs";

    private static readonly JsonGrainStateSerializer Json = new();

    private const string WriteSql =
        """
        INSERT INTO jobs (job_id, tenant_id, model, tier, status, created_ms, updated_ms, cache_hit, run_ms, wait_ms, state_json, version)
        VALUES (@Id, @Tenant, @Model, @Tier, @Status, @Now, @Now, @CacheHit, @RunMs, @WaitMs, @State, 1)
        ON CONFLICT (job_id) DO UPDATE SET tenant_id = excluded.tenant_id, model = excluded.model, tier = excluded.tier,
            status = excluded.status, updated_ms = excluded.updated_ms, cache_hit = excluded.cache_hit, run_ms = excluded.run_ms,
            wait_ms = excluded.wait_ms, state_json = excluded.state_json, version = jobs.version + 1
        WHERE (@Expected IS NULL AND jobs.state_json IS NULL) OR jobs.version = @Expected
        RETURNING version
        """;

    /// <summary>PostgreSQL, a batch: each row carries the version it will have (the one read + 1;
    /// 1 for a first write, over no state: a listing-only row has version 0), and applies only
    /// over the version before it. Rows refused are not returned. The webhook deliveries the
    /// written states owe go in with them, only for rows applied.</summary>
    private const string WriteManySql =
        """
        WITH up AS (
        INSERT INTO jobs AS j (job_id, tenant_id, model, tier, status, created_ms, updated_ms, cache_hit, run_ms, wait_ms, state_json, version)
        SELECT u.id, u.tenant, u.model, u.tier, u.status, @Now, @Now, u.hit, u.run, u.wait, u.state, u.version
        FROM unnest(@Ids::text[], @Tenants::text[], @Models::text[], @Tiers::int[], @Statuses::text[], @Hits::int[], @Runs::float8[],
                    @Waits::bigint[], @States::text[], @Versions::bigint[]) AS u(id, tenant, model, tier, status, hit, run, wait, state, version)
        ON CONFLICT (job_id) DO UPDATE SET tenant_id = excluded.tenant_id, model = excluded.model, tier = excluded.tier,
            status = excluded.status, updated_ms = excluded.updated_ms, cache_hit = excluded.cache_hit, run_ms = excluded.run_ms,
            wait_ms = excluded.wait_ms, state_json = excluded.state_json, version = excluded.version
        WHERE j.version = excluded.version - 1
        RETURNING j.job_id),
        hooks AS (
        INSERT INTO webhook_deliveries (delivery_id, job_id, url, payload, status, next_attempt_ms, created_ms)
        SELECT h.id, h.job, h.url, h.payload, 'pending', @Now, @Now
        FROM unnest(@HookIds::text[], @HookJobs::text[], @HookUrls::text[], @HookPayloads::text[]) AS h(id, job, url, payload)
        WHERE h.job IN (SELECT job_id FROM up)
        ON CONFLICT (delivery_id) DO NOTHING)
        SELECT job_id FROM up
        """;

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        ArgumentNullException.ThrowIfNull(grainState);
        var id = grainId.Key.ToString()!;
        var row = await store.ReadAsync(c => c.QuerySingleOrDefaultAsync<StateRow>(
            "SELECT state_json AS Json, version AS Version FROM jobs WHERE job_id = @Id", new { Id = id }));
        if (row is { Json: { } json })
        {
            grainState.State = Json.Deserialize<T>(BinaryData.FromString(json));
            grainState.ETag = row.Version.ToString(CultureInfo.InvariantCulture);
            grainState.RecordExists = true;
        }
        else
        {
            grainState.ETag = null;
            grainState.RecordExists = false;
        }
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        ArgumentNullException.ThrowIfNull(grainState);
        if (grainState.State is not JobSnapshot job)
        {
            throw new NotSupportedException($"{nameof(JobStateStorage)} stores job states only, not {typeof(T).Name}");
        }

        var id = grainId.Key.ToString()!;
        var written = await _writes.RunAsync(new Row(
            id, job.TenantId, job.Model, job.Tier, job.Status.ToString(),
            job.Result?.CacheHit == true ? 1 : 0,
            job.Result is { CacheHit: false } r ? r.RunMs : null,
            job.StartedAt is { } started && job.QueuedAt is { } queued ? (long)(started - queued).TotalMilliseconds : null,
            Json.Serialize(job with { JobId = id, Progress = null }).ToString(),
            Expected(grainState.ETag),
            Outboxes.WebhookOutbox.For(job with { JobId = id }, time.GetUtcNow())));
        if (written is not { } version)
        {
            throw new InconsistentStateException($"job {id}: the stored state is not version {grainState.ETag ?? "none"} (another activation wrote it)",
                "unknown", grainState.ETag ?? "none");
        }

        grainState.ETag = version.ToString(CultureInfo.InvariantCulture);
        grainState.RecordExists = true;
    }

    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        ArgumentNullException.ThrowIfNull(grainState);
        var id = grainId.Key.ToString()!;
        var expected = Expected(grainState.ETag);
        var deleted = await store.WriteAsync(c => c.ExecuteAsync(
            "DELETE FROM jobs WHERE job_id = @Id AND ((@Expected IS NULL AND state_json IS NULL) OR version = @Expected)",
            new { Id = id, Expected = expected }));
        if (deleted == 0 && expected is not null)
        {
            throw new InconsistentStateException($"job {id}: the stored state is not version {grainState.ETag} (another activation wrote it)",
                "unknown", grainState.ETag!);
        }

        grainState.State = Activator.CreateInstance<T>(); // as Orleans' own providers do: cleared reads as new
        grainState.ETag = null;
        grainState.RecordExists = false;
    }

    private async Task<IReadOnlyList<long?>> WriteBatchAsync(IReadOnlyList<Row> rows)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        if (store.IsPostgres)
        {
            var applied = await store.WriteAsync(async c => (await c.QueryAsync<string>(WriteManySql, new
            {
                Now = now,
                Ids = rows.Select(r => r.Id).ToArray(),
                Tenants = rows.Select(r => r.Tenant).ToArray(),
                Models = rows.Select(r => r.Model).ToArray(),
                Tiers = rows.Select(r => r.Tier).ToArray(),
                Statuses = rows.Select(r => r.Status).ToArray(),
                Hits = rows.Select(r => r.CacheHit).ToArray(),
                Runs = rows.Select(r => r.RunMs).ToArray(),
                Waits = rows.Select(r => r.WaitMs).ToArray(),
                States = rows.Select(r => r.State).ToArray(),
                Versions = rows.Select(r => (r.Expected ?? 0) + 1).ToArray(),
                HookIds = rows.Where(r => r.Hook is not null).Select(r => r.Hook!.Id).ToArray(),
                HookJobs = rows.Where(r => r.Hook is not null).Select(r => r.Hook!.Job).ToArray(),
                HookUrls = rows.Where(r => r.Hook is not null).Select(r => r.Hook!.Url).ToArray(),
                HookPayloads = rows.Where(r => r.Hook is not null).Select(r => r.Hook!.Payload).ToArray(),
            })).ToHashSet(StringComparer.Ordinal));
            return [.. rows.Select(r => applied.Contains(r.Id) ? (r.Expected ?? 0) + 1 : (long?)null)];
        }

        // SQLite: no round trip to save, but one transaction, one commit, for the batch.
        return await store.WriteAsync<IReadOnlyList<long?>>(async c =>
        {
            await using var tx = await c.BeginTransactionAsync();
            var versions = new List<long?>(rows.Count);
            foreach (var r in rows)
            {
                var version = await c.QuerySingleOrDefaultAsync<long?>(WriteSql, new
                {
                    r.Id, r.Tenant, r.Model, r.Tier, r.Status, Now = now, r.CacheHit, r.RunMs, r.WaitMs, r.State, r.Expected,
                }, tx);
                if (version is not null && r.Hook is { } hook)
                {
                    await c.ExecuteAsync(Outboxes.WebhookOutbox.InsertSql, new { hook.Id, hook.Job, hook.Url, hook.Payload, Now = now }, tx);
                }

                versions.Add(version);
            }

            await tx.CommitAsync();
            return versions;
        });
    }

    private static long? Expected(string? etag) =>
        etag is null ? null : long.Parse(etag, NumberStyles.Integer, CultureInfo.InvariantCulture);

    private sealed record StateRow(string? Json, long Version);

    private sealed record Row(string Id, string Tenant, string Model, int Tier, string Status, int CacheHit, double? RunMs, long? WaitMs, string State, long? Expected,
        Outboxes.WebhookOutbox.Delivery? Hook);
}
