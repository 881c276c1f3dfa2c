using System.Globalization;
using Actors.Client.Api.Auth;
using Actors.Client.Api.Webhooks;
using Actors.Grains;
using Actors.Grains.Jobs;
using Actors.Grains.Stores;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace Actors.Client.Api.Jobs;

/// <summary>The jobs resource: submit, read, output, events (SSE), cancel, list.</summary>
internal static class JobsApi
{
    public static RouteGroupBuilder MapJobs(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/jobs").WithTags("jobs");
        group.MapPost("/", SubmitAsync).WithSummary("Submit a job (JSON with base64 input, or multipart/form-data)")
            .AddOpenApiOperationTransformer(async (operation, context, ct) =>
            {
                // Documentation only: Accepts() metadata would also make routing refuse the other
                // encoding (a 415), so both request bodies are written into the document here.
                operation.RequestBody = new Microsoft.OpenApi.OpenApiRequestBody
                {
                    Required = true,
                    Content = new Dictionary<string, Microsoft.OpenApi.OpenApiMediaType>
                    {
                        ["application/json"] = new() { Schema = await context.GetOrCreateSchemaAsync(typeof(JobRequestSchemas.JsonJob), null, ct) },
                        ["multipart/form-data"] = new() { Schema = await context.GetOrCreateSchemaAsync(typeof(JobRequestSchemas.FormJob), null, ct) },
                    },
                };
            })
            .Produces<JobView>(StatusCodes.Status200OK).Produces<JobView>(StatusCodes.Status202Accepted)
            .ProducesProblem(400).ProducesProblem(401).ProducesProblem(402).ProducesProblem(403).ProducesProblem(409).ProducesProblem(413).ProducesProblem(415)
            .ProducesProblem(422).ProducesProblem(429).ProducesProblem(503);
        group.MapGet("/", ListAsync).WithSummary("This tenant's jobs, newest first").Produces<JobView[]>();
        group.MapGet("/{id}", GetAsync).WithSummary("A job; Prefer: wait=N waits up to N s for it to finish").Produces<JobView>().ProducesProblem(404);
        group.MapGet("/{id}/output", OutputAsync).WithSummary("The job's JSON answer, or its image with ?format=png").ProducesProblem(404).ProducesProblem(409);
        group.MapGet("/{id}/events", EventsAsync).WithSummary("Server-sent events: queued (position, ETA), running, finished");
        group.MapDelete("/{id}", CancelAsync).WithSummary("Cancel a job that has not finished").Produces<JobView>().ProducesProblem(404).ProducesProblem(409);
        group.MapDelete("/{id}/data", EraseAsync).WithSummary("Erase a finished job's input and output (they read as 404 after); logged for audit")
            .Produces<ErasureView>().ProducesProblem(404).ProducesProblem(409);
        return group;
    }

    internal static async Task<IResult> SubmitAsync(HttpContext context, ApiKeyCallers callers, JobSubmitter submitter, JobReader reader, WebhookDestinations destinations,
        IOptions<ClientApiOptions> options)
    {
        var (caller, problem) = await callers.AuthenticateAsync(context.Request);
        if (caller is null)
        {
            return problem!;
        }

        var idempotencyKey = context.Request.Headers["Idempotency-Key"].ToString();
        if (idempotencyKey.Length > 255)
        {
            return Problems.BadRequest("malformed_request", "Idempotency-Key may be at most 255 characters");
        }

        JobSnapshot job;
        bool replayed;
        try
        {
            var submission = await JobSubmissionReader.ReadAsync(context.Request, options.Value.MaxUploadBytes, options.Value.MaxVolumeBytes, context.RequestAborted);
            if (submission.WebhookUrl is { } webhook && destinations.Refusal(new Uri(webhook)) is { } refused)
            {
                return Problems.Unprocessable("bad_webhook_url", $"'webhookUrl' cannot receive webhooks: {refused}");
            }

            Grains.Billing.Admission? admission;
            (job, replayed, admission) = await submitter.SubmitAsync(caller, submission, idempotencyKey.Length == 0 ? null : idempotencyKey);
            foreach (var (name, value) in admission?.RateLimit is { } rate ? RateLimitHeaders.Of(rate) : [])
            {
                context.Response.Headers[name] = value;
            }
        }
        catch (SubmissionException e)
        {
            foreach (var (name, value) in e.Headers)
            {
                context.Response.Headers[name] = value;
            }

            return Problems.Of(e.Status, e.Code, e.Message, e.Extensions.Count > 0 ? e.Extensions : null);
        }

        if (replayed)
        {
            context.Response.Headers["Idempotent-Replayed"] = "true";
        }

        return await AnswerAsync(context, reader, job, options.Value);
    }

    internal static async Task<IResult> GetAsync(string id, HttpContext context, ApiKeyCallers callers, JobReader reader, IOptions<ClientApiOptions> options)
    {
        var (caller, problem) = await callers.AuthenticateAsync(context.Request);
        if (caller is null)
        {
            return problem!;
        }

        return await reader.FindAsync(caller, id) is { } job
            ? await AnswerAsync(context, reader, job, options.Value)
            : JobNotFound(id);
    }

    internal static async Task<IResult> ListAsync(HttpContext context, ApiKeyCallers callers, IJobListings index, string? status, int? limit)
    {
        var (caller, problem) = await callers.AuthenticateAsync(context.Request);
        if (caller is null)
        {
            return problem!;
        }

        if (JobStatusFilter.Parse(status, out var filter) is { } bad)
        {
            return bad;
        }

        var jobs = await index.ListAsync(caller.TenantId, filter, Math.Clamp(limit ?? 50, 1, 500));
        return TypedResults.Ok(jobs.Select(j => new { id = j.JobId, status = j.Status.ToString().ToLowerInvariant(), model = j.Model, createdAt = j.CreatedAt, updatedAt = j.UpdatedAt }));
    }

    internal static async Task<IResult> OutputAsync(string id, HttpContext context, ApiKeyCallers callers, JobReader reader, IBlobStore blobs, string? format)
    {
        var (caller, job, problem) = await OwnJobAsync(id, context, callers, reader);
        if (caller is null || job is null)
        {
            return problem!;
        }

        if (job.Status != JobStatus.Succeeded || job.Result is not { } result)
        {
            return Problems.Conflict("job_not_succeeded", $"job {id} is {job.Status.ToString().ToLowerInvariant()}; its output exists once it has succeeded");
        }

        if (job.DataErasedAt is { } erased)
        {
            return DataErased(id, erased);
        }

        if (format is not (null or "png" or "json" or "nifti"))
        {
            return Problems.BadRequest("bad_parameter", $"format must be json, png or nifti; got '{format}'");
        }

        var accept = context.Request.GetTypedHeaders().Accept;
        var wanted = format ?? (accept.Any(a => a.MediaType == "image/png") ? "png"
            : accept.Any(a => a.MediaType == "application/gzip" || a.MediaType == Inference.Volumes.Nifti.ContentType) ? "nifti" : "json");
        if (wanted == "json" && result.OutputInline is { } inline)
        {
            return TypedResults.Text(inline, "application/json", System.Text.Encoding.UTF8);
        }

        var reference = wanted == "json" ? result.OutputRef : result.ImageRef;
        if (reference is null)
        {
            return Problems.Of(StatusCodes.Status406NotAcceptable, "no_file_output", $"model '{job.Model}' returns no image or volume; its output is JSON");
        }

        var blob = await blobs.OpenAsync(job.TenantId, BlobClass.Output, reference);
        if (blob is null)
        {
            return Problems.Of(StatusCodes.Status410Gone, "output_gone", $"the output of job {id} is no longer kept (past its plan's retention)");
        }

        var isPng = blob.ContentType == "image/png";
        if (wanted != "json" && (wanted == "png") != isPng)
        {
            await blob.DisposeAsync();
            return Problems.Of(StatusCodes.Status406NotAcceptable, "no_file_output",
                $"job {id}'s file output is {(isPng ? "a PNG image (format=png)" : "a NIfTI label volume (format=nifti)")}");
        }

        if (isPng && reader.Watermarked(job))
        {
            await using (blob)
            {
                return TypedResults.File(Inference.Imaging.Watermark.Stamp(await blob.ReadAllAsync(context.RequestAborted)), blob.ContentType);
            }
        }

        // Streamed from the store; the result disposes the stream once written.
        return TypedResults.Stream(blob.Content, blob.ContentType, isPng || wanted == "json" ? null : $"{id}-labels.nii.gz");
    }

    /// <summary>The caller and its job <paramref name="id"/>, or the problem to answer (401/403,
    /// or 404 for a job that is not the caller's).</summary>
    private static async Task<(TenantCaller? Caller, JobSnapshot? Job, IResult? Problem)> OwnJobAsync(string id, HttpContext context, ApiKeyCallers callers, JobReader reader)
    {
        var (caller, problem) = await callers.AuthenticateAsync(context.Request);
        if (caller is null)
        {
            return (null, null, problem);
        }

        return await reader.FindAsync(caller, id) is { } job ? (caller, job, null) : (caller, null, JobNotFound(id));
    }

    internal static async Task<IResult> EraseAsync(string id, HttpContext context, ApiKeyCallers callers, JobReader reader, IGrainFactory grains)
    {
        var (caller, job, problem) = await OwnJobAsync(id, context, callers, reader);
        if (caller is null || job is null)
        {
            return problem!;
        }

        try
        {
            var erased = await grains.GetGrain<IJobGrain>(id).EraseDataAsync($"tenant:{caller.TenantId}", audit: true);
            return TypedResults.Ok(ErasureView.Of(erased));
        }
        catch (InvalidTransitionException)
        {
            return Problems.Conflict("job_not_finished", $"job {id} is {job.Status.ToString().ToLowerInvariant()}; cancel it (DELETE /v1/jobs/{id}) before erasing its data");
        }
    }

    internal static IResult DataErased(string id, DateTimeOffset at) =>
        Problems.NotFound("data_erased", $"the input and output of job {id} were erased at {at:O}");

    internal static async Task EventsAsync(string id, HttpContext context, ApiKeyCallers callers, JobReader reader, QueueEta eta)
    {
        var (caller, problem) = await callers.AuthenticateAsync(context.Request);
        if (caller is null)
        {
            await problem!.ExecuteAsync(context);
            return;
        }

        if (await reader.FindAsync(caller, id) is not { } job)
        {
            await JobNotFound(id).ExecuteAsync(context);
            return;
        }

        await JobEventStream.RunAsync(context, reader, eta, job);
    }

    internal static async Task<IResult> CancelAsync(string id, HttpContext context, ApiKeyCallers callers, JobReader reader, IGrainFactory grains)
    {
        var (caller, job, problem) = await OwnJobAsync(id, context, callers, reader);
        if (caller is null || job is null)
        {
            return problem!;
        }

        try
        {
            var canceled = await grains.GetGrain<IJobGrain>(id).CancelAsync();
            return TypedResults.Ok(await reader.ViewAsync(canceled));
        }
        catch (InvalidTransitionException)
        {
            return Problems.Conflict("job_finished", $"job {id} already {job.Status.ToString().ToLowerInvariant()}; only unfinished jobs can be canceled");
        }
    }

    /// <summary>200 with the job when it has finished (or after waiting for it), else 202 with its location.</summary>
    private static async Task<IResult> AnswerAsync(HttpContext context, JobReader reader, JobSnapshot job, ClientApiOptions options)
    {
        if (!job.IsTerminal && PreferredWait(context.Request, options.MaxWaitSeconds) is { } wait)
        {
            context.Response.Headers["Preference-Applied"] = $"wait={(int)wait.TotalSeconds}";
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (!job.IsTerminal && clock.Elapsed < wait && !context.RequestAborted.IsCancellationRequested)
            {
                job = await reader.WaitForChangeAsync(job, wait - clock.Elapsed, context.RequestAborted);
            }
        }

        var view = await reader.ViewAsync(job);
        if (job.IsTerminal)
        {
            return TypedResults.Ok(view);
        }

        context.Response.Headers.RetryAfter = "1";
        return TypedResults.Accepted($"/v1/jobs/{job.JobId}", view);
    }

    /// <summary><c>Prefer: wait=N</c> (RFC 7240), N in whole seconds, capped at the server's
    /// maximum however many digits it has (a value past 2³¹ is long, not absent).</summary>
    internal static TimeSpan? PreferredWait(HttpRequest request, int max)
    {
        foreach (var preference in request.Headers["Prefer"].SelectMany(v => (v ?? "").Split(',')))
        {
            var parts = preference.Trim().Split('=', 2);
            var value = parts.Length == 2 ? parts[1].Trim().Trim('"') : "";
            if (parts[0].Trim().Equals("wait", StringComparison.OrdinalIgnoreCase) && value.Length > 0 && value.All(char.IsAsciiDigit))
            {
                var seconds = value.TrimStart('0') is { Length: > 9 } ? max : int.Parse(value, NumberStyles.None, CultureInfo.InvariantCulture);
                return TimeSpan.FromSeconds(Math.Clamp(seconds, 0, max));
            }
        }

        return null;
    }

    internal static IResult JobNotFound(string id) => Problems.NotFound("job_not_found", $"no job '{id}' for this API key");
}
