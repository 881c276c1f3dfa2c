using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Actors.Client.Api.Auth;
using Actors.Client.Api.Models;
using Actors.Grains;
using Actors.Grains.Billing;
using Actors.Grains.Diagnostics;
using Actors.Grains.Jobs;
using Actors.Grains.Stores;
using Actors.Grains.Tenants;
using Actors.Inference.Errors;
using Actors.Jobs;
using Actors.Inference.Pipelines;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Actors.Client.Api.Jobs;

/// <summary>Admits a parsed submission: the model must exist, the input and parameters must
/// suit it (checked here, without a GPU), the input goes into the job (small) or the blob store, the
/// Idempotency-Key picks the job id, and the job grain queues it (or answers from the cache).</summary>
public sealed class JobSubmitter(IGrainFactory grains, ModelCatalog catalog, IBlobStore blobs, IIdempotencyKeys idempotency,
    PoolGate pool, IJobListings index, IOptions<ClientApiOptions> options, TimeProvider time)
{
    internal async Task<(JobSnapshot Job, bool Replayed, Admission? Admission)> SubmitAsync(TenantCaller caller, JobSubmission submission, string? idempotencyKey)
    {
        if (catalog.Find(submission.Model) is not { } manifest)
        {
            throw new SubmissionException(StatusCodes.Status422UnprocessableEntity, "unknown_model",
                $"no model named '{submission.Model}'; GET /v1/models lists them");
        }

        var parameters = submission.Parameters;
        var inference = parameters.ToInferenceRequest(submission.Input, submission.ContentType);
        try
        {
            RequestValidation.Check(manifest, inference, options.Value.MaxImagePixels, options.Value.MaxVolumeVoxelBytes);
        }
        catch (InferenceException e)
        {
            throw e switch
            {
                ImageTooLargeException or VolumeTooLargeException => new SubmissionException(StatusCodes.Status413PayloadTooLarge, e.Code, e.Message),
                ImageFormatException when e.Message.StartsWith("unsupported content type", StringComparison.Ordinal) =>
                    new SubmissionException(StatusCodes.Status415UnsupportedMediaType, e.Code, e.Message),
                ImageFormatException => new SubmissionException(StatusCodes.Status400BadRequest, e.Code, e.Message),
                _ => new SubmissionException(StatusCodes.Status422UnprocessableEntity, e.Code, e.Message),
            };
        }

        var inputHash = submission.Input.IsEmpty ? null : Convert.ToHexStringLower(SHA256.HashData(submission.Input.Span));
        var request = new JobRequest
        {
            TenantId = caller.TenantId,
            Model = manifest.Name,
            ModelVersion = manifest.Version,
            Tier = (int)caller.Tier,
            InputRef = inputHash,
            InputContentType = submission.Input.IsEmpty ? "" : submission.ContentType.Split(';')[0].Trim().ToLowerInvariant(),
            Parameters = parameters,
            IdempotencyKey = idempotencyKey,
            WebhookUrl = submission.WebhookUrl,
            SharedCache = manifest.Cache.Shared,
        };

        var jobId = JobIds.New(time);
        var replayed = false;
        if (idempotencyKey is not null)
        {
            var fingerprint = Fingerprint(request);
            var (claimed, firstFingerprint) = await idempotency.ClaimAsync(caller.TenantId, idempotencyKey, fingerprint, jobId);
            if (firstFingerprint != fingerprint)
            {
                throw new SubmissionException(StatusCodes.Status422UnprocessableEntity, "idempotency_key_reused",
                    $"Idempotency-Key '{idempotencyKey}' was used with a different request (job {claimed})");
            }

            replayed = claimed != jobId;
            jobId = claimed;
        }

        var jobGrain = grains.GetGrain<IJobGrain>(jobId);
        if (replayed && await jobGrain.GetAsync() is { Status: not JobStatus.New } existing)
        {
            if (existing.Status == JobStatus.Queued)
            {
                // The first request may have died between the job's "queued" and its queue row
                // (its silo killed): the retry puts the row in (idempotent).
                await jobGrain.EnsureQueuedAsync();
            }

            return existing.IsAbandoned ? throw Lapsed(existing) : (existing, true, null);
        }

        // The autoscaler's overflow rule: this tier's jobs wait too long, refuse new ones for now.
        if (await pool.RefusingUntilAsync(caller.Tier) is { } until)
        {
            ActorsMetrics.AdmissionsRefused.Add(1, new KeyValuePair<string, object?>("reason", "server_busy"));
            await CountRefusalAsync(caller.TenantId, "server_busy");
            var busy = new SubmissionException(StatusCodes.Status503ServiceUnavailable, "server_busy",
                $"{caller.Tier} jobs are waiting longer than the plan allows; try again in a little while");
            busy.Headers["Retry-After"] = Math.Max(1, (int)Math.Ceiling((until - time.GetUtcNow()).TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            throw busy;
        }

        // The tenant decides (plan, rate limit, quotas, credits) and reserves the price; a job
        // that then never reaches its grain has its reservation released by the tenant's reminder.
        var admission = await grains.GetGrain<ITenantGrain>(caller.TenantId).AdmitAsync(jobId, manifest.Name, mayRepeat: idempotencyKey is not null);
        if (!admission.Admitted)
        {
            ActorsMetrics.AdmissionsRefused.Add(1, new KeyValuePair<string, object?>("reason", admission.Code ?? "refused"));
            await CountRefusalAsync(caller.TenantId, admission.Code ?? "refused");
            throw Refusal(admission);
        }

        request = request with
        {
            Tier = admission.Priority, Billed = true, Watermark = admission.Watermark, MaxWaitSeconds = admission.MaxWaitSeconds,
            Retention = admission.Retention,
        };
        if (inputHash is not null && submission.Input.Length <= JobRequest.InlineBytes)
        {
            // Small: it travels in the job itself (dropped when the job ends), no blob.
            request = request with { InputInline = Convert.ToBase64String(submission.Input.Span) };
        }
        else if (inputHash is not null)
        {
            // Kept for the plan's input retention from now, referenced by this job.
            using var content = MemoryStreams.Of(submission.Input);
            await blobs.PutAsync(caller.TenantId, BlobClass.Input, content, request.InputContentType, "job:" + jobId, time.GetUtcNow() + admission.Retention.Input);
        }

        JobSnapshot job;
        try
        {
            job = await jobGrain.SubmitAsync(request);
        }
        catch (InvalidTransitionException) when (admission.Repeated)
        {
            if (await jobGrain.GetAsync() is not { IsAbandoned: true } lapsed)
            {
                throw;
            }

            throw Lapsed(lapsed); // closed between the replay check and now
        }

        ActorsMetrics.JobsSubmitted.Add(1, new("model", request.Model), new("tier", TierName(request.Tier)));
        ActorsMetrics.CacheLookups.Add(1, new KeyValuePair<string, object?>("result", job.Result is { CacheHit: true } ? "hit" : "miss"));
        return (job, replayed, admission);
    }

    internal static string TierName(int tier) => ((Actors.Grains.Tenants.Tier)tier).ToString().ToLowerInvariant();

    /// <summary>Refusals are counted for usage analytics; that count is not worth failing the answer for.</summary>
    private async Task CountRefusalAsync(string tenantId, string reason)
    {
        try
        {
            await index.CountRefusalAsync(tenantId, reason);
        }
        catch (System.Data.Common.DbException)
        {
            // the store is busy or down: the refusal itself still stands
        }
    }

    /// <summary>The first request with this key was admitted but never arrived: its credits were
    /// given back and its job closed (<see cref="IJobGrain.AbandonAsync"/>), so it cannot run now unpaid.</summary>
    private static SubmissionException Lapsed(JobSnapshot job) =>
        new(StatusCodes.Status409Conflict, "idempotency_key_lapsed",
            $"the first request with this Idempotency-Key never completed and job {job.JobId} was closed ({job.Reason}); submit again with a new key");

    private static SubmissionException Refusal(Admission a)
    {
        var status = a.Code switch
        {
            "payment_required" => StatusCodes.Status402PaymentRequired,
            "rate_limited" or "daily_quota_exceeded" or "monthly_quota_exceeded" => StatusCodes.Status429TooManyRequests,
            _ => StatusCodes.Status403Forbidden,
        };
        var refusal = new SubmissionException(status, a.Code ?? "refused", a.Detail ?? "the tenant refused the job");
        if (a.RetryAfterSeconds is { } retry)
        {
            refusal.Headers["Retry-After"] = retry.ToString(CultureInfo.InvariantCulture);
            refusal.Extensions["retryAfterSeconds"] = retry;
        }

        if (a.RateLimit is { } rate)
        {
            foreach (var (name, value) in RateLimitHeaders.Of(rate))
            {
                refusal.Headers[name] = value;
            }
        }

        if (status == StatusCodes.Status402PaymentRequired)
        {
            refusal.Extensions["buyCredits"] = "/v1/billing/checkout";
            refusal.Extensions["usage"] = "/v1/usage";
        }

        return refusal;
    }

    /// <summary>What makes two requests "the same body": everything but the key itself.</summary>
    private static string Fingerprint(JobRequest r) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{r.CacheKey}\n{r.WebhookUrl}")));
}
