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
/// a first write expects no state. Migration 011 moved the states stored before.</para></summary>
public sealed class JobStateStorage(SqlStore store, TimeProvider time) : IGrainStorage
{
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
        var expected = Expected(grainState.ETag);
        var written = await store.WriteAsync(c => c.QuerySingleOrDefaultAsync<long?>(WriteSql, new
        {
            Id = id,
            Tenant = job.TenantId,
            Model = job.Model,
            job.Tier,
            Status = job.Status.ToString(),
            Now = time.GetUtcNow().ToUnixTimeMilliseconds(),
            CacheHit = job.Result?.CacheHit == true ? 1 : 0,
            RunMs = job.Result is { CacheHit: false } r ? r.RunMs : (double?)null,
            WaitMs = job.StartedAt is { } started && job.QueuedAt is { } queued ? (long)(started - queued).TotalMilliseconds : (long?)null,
            State = Json.Serialize(job with { JobId = id, Progress = null }).ToString(),
            Expected = expected,
        }));
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

    private static long? Expected(string? etag) =>
        etag is null ? null : long.Parse(etag, NumberStyles.Integer, CultureInfo.InvariantCulture);

    private sealed record StateRow(string? Json, long Version);
}
