using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Actors.Grains;
using Actors.Grains.Jobs;
using Actors.Grains.Diagnostics;
using Actors.Grains.Stores;
using Actors.Inference;
using Actors.Inference.Errors;
using Actors.Inference.Pipelines;
using Actors.Jobs;
using Actors.Storage.Blobs;
using Actors.Storage.Cache;

namespace Actors.Silo.Gpu;

/// <summary>Runs one claimed job's model: reads its input (inline or a blob), runs the engine
/// with progress reported to the job's grain, keeps the output (in the job when small, else as
/// blobs) and fills the result cache. What is claimed, when, and how the job is reported is
/// <see cref="GpuHost"/>'s.</summary>
internal sealed class JobComputer(IGrainFactory grains, BlobStore blobs, ResultCache cache, Actors.Grains.Cluster.RetentionPolicy retention, TimeProvider time)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Tells the job grain how many slices are done: at most every 250 ms, and the last one.</summary>
    private sealed class SliceProgress(IJobGrain grain, int attempt, TimeProvider time) : IProgress<(int Done, int Total)>
    {
        private long _lastMs = long.MinValue;

        public void Report((int Done, int Total) value)
        {
            var now = time.GetUtcNow().ToUnixTimeMilliseconds();
            var last = Interlocked.Read(ref _lastMs);
            var due = value.Done == value.Total || (now - last >= 250 && Interlocked.CompareExchange(ref _lastMs, now, last) == last);
            if (!due)
            {
                return;
            }

            _ = grain.ReportProgressAsync(attempt, new JobProgress(value.Done, value.Total, "slices")).ContinueWith(_ => { }, TaskScheduler.Default); // best effort
        }
    }

    /// <summary>Runs the model for one job. The result cache was asked when the job was submitted;
    /// identical jobs held here at once run once (<see cref="_computing"/>), and a job whose key
    /// this host computed in the last minute (identical jobs submitted together, claimed one after
    /// the other) asks the cache again — only then, so a distinct job costs one look-up.</summary>
    public async Task<JobResult> ComputeAsync(InferenceEngine engine, JobRequest request, string jobId, int attempt)
    {
        var owner = "job:" + jobId;
        var outputsUntil = time.GetUtcNow() + request.Retention.Output;
        var key = request.CacheKey;
        if (_recentKeys.TryGetValue(key, out var computedAt) && time.GetUtcNow() - computedAt < RecentKeyWindow
            && await cache.ServeAsync(key, request.TenantId, jobId, outputsUntil) is { } served)
        {
            ActorsMetrics.CacheLookups.Add(1, new KeyValuePair<string, object?>("result", served.CacheHit ? "hit" : "miss"));
            return served;
        }

        ReadOnlyMemory<byte> input = default;
        if (request.InputInline is { } inline)
        {
            input = Convert.FromBase64String(inline);
        }
        else if (request.InputRef is { } inputRef)
        {
            await using var blob = await blobs.OpenAsync(request.TenantId, BlobClass.Input, inputRef)
                ?? throw new InvalidInputException($"the input blob {inputRef} is gone (erased, or past its retention)");
            input = await blob.ReadAllAsync();
        }

        var clock = Stopwatch.StartNew();
        var inference = request.Parameters.ToInferenceRequest(input, request.InputContentType) with { Progress = new SliceProgress(grains.GetGrain<IJobGrain>(jobId), attempt, time) };
        var output = await engine.RunAsync(request.Model, inference);
        var runMs = clock.Elapsed.TotalMilliseconds;
        ActorsMetrics.InferenceDuration.Record(runMs / 1000, new KeyValuePair<string, object?>("model", request.Model));
        var (file, fileType) = output switch
        {
            VolumeSegmentationOutput { LabelVolume: { } labels } => (labels, Actors.Inference.Volumes.Nifti.ContentType),
            { Png: { } png } => (png, "image/png"),
            _ => ((byte[]?)null, ""),
        };
        var json = JsonSerializer.SerializeToUtf8Bytes<InferenceOutput>(output, Json);
        JobResult result;
        if (file is null && json.Length <= JobRequest.InlineBytes && request.Retention.Output >= retention.Retention)
        {
            // Small and alone: kept in the job (and its cache entry). Only where the job's record
            // goes no later than the plan's output retention ends, so it never outlives it.
            result = new JobResult(null, null, false, Math.Round(runMs, 3), jobId, System.Text.Encoding.UTF8.GetString(json));
        }
        else
        {
            var outputRef = (await blobs.PutAsync(request.TenantId, BlobClass.Output, json, "application/json", owner, outputsUntil)).Hash;
            var imageRef = file is not null ? (await blobs.PutAsync(request.TenantId, BlobClass.Output, file, fileType, owner, outputsUntil)).Hash : null;
            result = new JobResult(outputRef, imageRef, false, Math.Round(runMs, 3), jobId);
        }

        await cache.PutAsync(key, request.Model, request.TenantId, result, request.Retention.Cache);
        RememberKey(key);
        return result;
    }

    private static readonly TimeSpan RecentKeyWindow = TimeSpan.FromMinutes(1);

    /// <summary>Cache keys this host computed, and when (at most ~4,096; older ones dropped).</summary>
    private readonly ConcurrentDictionary<string, DateTimeOffset> _recentKeys = new(StringComparer.Ordinal);

    private void RememberKey(string key)
    {
        var now = time.GetUtcNow();
        _recentKeys[key] = now;
        if (_recentKeys.Count > 4096)
        {
            foreach (var (old, at) in _recentKeys)
            {
                if (now - at >= RecentKeyWindow || _recentKeys.Count > 4096)
                {
                    _recentKeys.TryRemove(KeyValuePair.Create(old, at));
                }
            }
        }
    }
}
