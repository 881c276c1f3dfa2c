using Actors.Client.Api.Auth;
using Actors.Client.Api.Jobs;
using Actors.Inference;
using Actors.Jobs;
using Actors.Inference.Errors;
using Actors.Inference.Pipelines;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Actors.Silo.Inference;

/// <summary>Synchronous inference on this silo's engine: list models, run one. Jobs,
/// tenants and queues come with the cluster core; this is the GPU host's own door.</summary>
internal static class InferenceApi
{
    public static RouteGroupBuilder MapInference(this IEndpointRouteBuilder app)
    {
        // Runs on this silo's engine at once, past the queue, tenants and billing: an operator's
        // door (the admin key), for checking a GPU host. Clients use /v1/jobs.
        var group = app.MapGroup("/v1/models").WithTags("gpu host");
        group.RequireAdminKey();
        group.MapPost("/{name}/infer", InferAsync).WithSummary("Run a model on this GPU host now (admin key)");
        return group;
    }

    internal static async Task<IResult> InferAsync(string name, HttpRequest request, EngineHost host, IOptions<Client.Api.ClientApiOptions> api, CancellationToken ct)
    {
        var limit = api.Value.MaxUploadBytes;
        if (request.ContentLength > limit)
        {
            return Problem(StatusCodes.Status413PayloadTooLarge, "upload_too_large", $"the upload is {request.ContentLength} bytes; the limit is {limit}");
        }

        // Read once: a stop may unload the models between a check and a use.
        if (host.Current is not { } engine)
        {
            return Warm();
        }

        if (!engine.TryGet(name, out var model) || model is null)
        {
            return Problem(StatusCodes.Status404NotFound, "unknown_model", $"no model named '{name}'");
        }

        InferenceRequest inference;
        try
        {
            inference = await ReadRequestAsync(request, model.Manifest.Task, limit, ct);
        }
        catch (InvalidDataException e)
        {
            return Problem(StatusCodes.Status413PayloadTooLarge, "upload_too_large", e.Message);
        }
        catch (FormatException e)
        {
            return Problem(StatusCodes.Status400BadRequest, "bad_parameter", e.Message);
        }
        catch (SubmissionException e)
        {
            return Problem(e.Status, e.Code, e.Message);
        }

        try
        {
            var output = await engine.RunAsync(name, inference, ct);
            var wantsPng = request.Query["format"] == "png" ||
                           request.GetTypedHeaders().Accept.Any(a => a.MediaType == "image/png");
            if (wantsPng)
            {
                return output.Png is { } png
                    ? TypedResults.File(png, "image/png")
                    : Problem(StatusCodes.Status406NotAcceptable, "no_image", $"model '{name}' returns no image");
            }

            return TypedResults.Json(output);
        }
        catch (InferenceException e)
        {
            return FromInferenceError(e);
        }
        catch (ObjectDisposedException) when (host.Current != engine)
        {
            return Warm(); // stopped while this request ran
        }
    }

    private static IResult Warm() =>
        Problem(StatusCodes.Status503ServiceUnavailable, "instance_warm", "this GPU host is WARM (no models loaded): resume it first (POST /admin/host/resume)");

    private static async Task<InferenceRequest> ReadRequestAsync(HttpRequest request, string task, long limit, CancellationToken ct)
    {
        using var body = new MemoryStream();
        var buffer = new byte[81920];
        int n;
        while ((n = await request.Body.ReadAsync(buffer, ct)) > 0)
        {
            if (body.Length + n > limit)
            {
                throw new InvalidDataException($"the upload is over the limit of {limit} bytes");
            }

            body.Write(buffer, 0, n);
        }

        // The query string follows the jobs API's parameter contract (same names, types, ranges).
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, values) in request.Query)
        {
            if (values.Count != 1)
            {
                throw new FormatException($"'{key}' is given {values.Count} times");
            }

            fields[key] = values[0] ?? "";
        }

        var parameters = JobParameterContract.FromText(fields, QueryFields, "the query string");
        return parameters.ToInferenceRequest(body.ToArray(), request.ContentType ?? (task == "diffusion" ? "" : "image/png"));
    }

    /// <summary>Query names besides the job parameters.</summary>
    private static readonly HashSet<string> QueryFields = new(StringComparer.Ordinal) { "format" };

    internal static IResult FromInferenceError(InferenceException e) => e switch
    {
        ImageTooLargeException => Problem(StatusCodes.Status413PayloadTooLarge, e.Code, e.Message),
        ImageFormatException when e.Message.StartsWith("unsupported content type", StringComparison.Ordinal) =>
            Problem(StatusCodes.Status415UnsupportedMediaType, e.Code, e.Message),
        ImageFormatException => Problem(StatusCodes.Status400BadRequest, e.Code, e.Message),
        InvalidInputException or TorchRuntimeException => Problem(StatusCodes.Status422UnprocessableEntity, e.Code, e.Message),
        UnknownModelException => Problem(StatusCodes.Status404NotFound, e.Code, e.Message),
        BatchQueueFullException => Results.Problem(title: "busy", detail: e.Message, statusCode: StatusCodes.Status503ServiceUnavailable,
            type: e.Code, extensions: new Dictionary<string, object?> { ["retryAfterSeconds"] = 1 }),
        _ => Problem(StatusCodes.Status503ServiceUnavailable, e.Code, e.Message),
    };

    private static IResult Problem(int status, string code, string detail) =>
        Results.Problem(title: code.Replace('_', ' '), detail: detail, statusCode: status, type: code);

}
