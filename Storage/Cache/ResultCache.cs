using System.Text.Json;
using Actors.Grains.Jobs;
using Actors.Storage.Sql;
using Dapper;

namespace Actors.Storage.Cache;

/// <summary>Finished results by cache key (model + version + parameters + input SHA-256): a hit
/// answers a job without a GPU.</summary>
public sealed class ResultCache(SqlStore store, TimeProvider time)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task<JobResult?> GetAsync(string cacheKey, CancellationToken cancellationToken = default)
    {
        var json = await store.ReadAsync(c => c.QuerySingleOrDefaultAsync<string?>(
            "SELECT result_json FROM result_cache WHERE cache_key = @Key", new { Key = cacheKey }), cancellationToken);
        return json is null ? null : JsonSerializer.Deserialize<JobResult>(json, Json);
    }

    /// <summary>Counts a hit and keeps the entry and its blobs alive.</summary>
    public Task RecordHitAsync(string cacheKey, JobResult result, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        return store.WriteAsync(async c =>
        {
            await c.ExecuteAsync("UPDATE result_cache SET hits = hits + 1, last_used_ms = @Now WHERE cache_key = @Key", new { Now = now, Key = cacheKey });
            return await c.ExecuteAsync("UPDATE blobs SET last_used_ms = @Now WHERE hash = @Output OR hash = @Image",
                new { Now = now, Output = result.OutputRef, Image = result.ImageRef ?? result.OutputRef });
        }, cancellationToken);
    }

    public Task PutAsync(string cacheKey, string model, JobResult result, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var json = JsonSerializer.Serialize(result with { CacheHit = false }, Json);
        return store.WriteAsync(c => c.ExecuteAsync(
            """
            INSERT INTO result_cache (cache_key, model, result_json, created_ms, last_used_ms) VALUES (@Key, @Model, @Json, @Now, @Now)
            ON CONFLICT (cache_key) DO NOTHING
            """, new { Key = cacheKey, Model = model, Json = json, Now = now }), cancellationToken);
    }

    /// <summary>Drops entries not used since <paramref name="cutoff"/>.</summary>
    public Task<int> SweepAsync(DateTimeOffset cutoff, CancellationToken cancellationToken = default) =>
        store.WriteAsync(c => c.ExecuteAsync("DELETE FROM result_cache WHERE last_used_ms < @Cut", new { Cut = cutoff.ToUnixTimeMilliseconds() }), cancellationToken);
}
