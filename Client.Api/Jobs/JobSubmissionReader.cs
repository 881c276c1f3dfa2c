using System.Globalization;
using System.Text.Json;
using Actors.Grains.Jobs;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace Actors.Client.Api.Jobs;

/// <summary>Reads a job from JSON (input as base64) or multipart/form-data (input as a file part).
/// URLs are never fetched: the input travels in the request. Failures are <see cref="SubmissionException"/>
/// carrying the HTTP status to answer.</summary>
internal static class JobSubmissionReader
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static async Task<JobSubmission> ReadAsync(HttpRequest request, long maxInputBytes, CancellationToken ct)
    {
        // base64 is 4/3 of the bytes; allow that plus room for the other fields.
        var maxBody = maxInputBytes * 4 / 3 + 64 * 1024;
        if (request.ContentLength > maxBody)
        {
            throw new SubmissionException(StatusCodes.Status413PayloadTooLarge, "upload_too_large",
                $"the request is {request.ContentLength} bytes; inputs may be at most {maxInputBytes} bytes");
        }

        var mediaType = MediaTypeHeaderValue.TryParse(request.ContentType, out var parsed) ? parsed.MediaType.Value?.ToLowerInvariant() : null;
        var body = await ReadBodyAsync(request.Body, maxBody, maxInputBytes, ct);
        var submission = mediaType switch
        {
            "application/json" => FromJson(body),
            "multipart/form-data" => await FromMultipartAsync(body, parsed!, ct),
            _ => throw new SubmissionException(StatusCodes.Status415UnsupportedMediaType, "unsupported_media_type",
                $"send application/json (input as base64) or multipart/form-data (input as a file part); got '{request.ContentType}'"),
        };
        if (submission.Input.Length > maxInputBytes)
        {
            throw new SubmissionException(StatusCodes.Status413PayloadTooLarge, "upload_too_large",
                $"the input is {submission.Input.Length} bytes; the limit is {maxInputBytes}");
        }

        return submission;
    }

    private static async Task<byte[]> ReadBodyAsync(Stream body, long maxBody, long maxInput, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int n;
        while ((n = await body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + n > maxBody)
            {
                throw new SubmissionException(StatusCodes.Status413PayloadTooLarge, "upload_too_large", $"the request is over the limit; inputs may be at most {maxInput} bytes");
            }

            buffer.Write(chunk, 0, n);
        }

        return buffer.ToArray();
    }

    private static JobSubmission FromJson(byte[] body)
    {
        JsonSubmission? json;
        try
        {
            json = JsonSerializer.Deserialize<JsonSubmission>(body, Json);
        }
        catch (JsonException e)
        {
            throw Malformed($"the body is not valid JSON for a job: {e.Message}");
        }

        if (json is null)
        {
            throw Malformed("the body is empty");
        }

        byte[] input;
        try
        {
            input = string.IsNullOrEmpty(json.Input) ? [] : Convert.FromBase64String(json.Input);
        }
        catch (FormatException)
        {
            throw Malformed("'input' is not valid base64");
        }

        var contentType = json.ContentType ?? (input.Length > 0 ? "image/png" : "");
        return new JobSubmission(RequireModel(json.Model), input, contentType, json.Parameters ?? new JobParameters(), WebhookOrNull(json.WebhookUrl));
    }

    private static async Task<JobSubmission> FromMultipartAsync(byte[] body, MediaTypeHeaderValue mediaType, CancellationToken ct)
    {
        var boundary = HeaderUtilities.RemoveQuotes(mediaType.Boundary).Value;
        if (string.IsNullOrEmpty(boundary))
        {
            throw Malformed("multipart/form-data needs a boundary");
        }

        var reader = new MultipartReader(boundary, new MemoryStream(body));
        var fields = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        byte[] input = [];
        string contentType = "";
        try
        {
            while (await reader.ReadNextSectionAsync(ct) is { } section)
            {
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition) || disposition.Name.Value is not { } rawName)
                {
                    throw Malformed("every multipart section needs a Content-Disposition with a name");
                }

                var name = HeaderUtilities.RemoveQuotes(rawName).Value!;
                using var data = new MemoryStream();
                await section.Body.CopyToAsync(data, ct);
                if (disposition.IsFileDisposition() || name is "input" or "file")
                {
                    input = data.ToArray();
                    contentType = section.ContentType ?? "image/png";
                }
                else
                {
                    fields[name] = System.Text.Encoding.UTF8.GetString(data.ToArray());
                }
            }
        }
        catch (IOException e)
        {
            throw Malformed($"the multipart body is malformed: {e.Message}");
        }

        var parameters = new JobParameters();
        if (fields.TryGetValue("parameters", out var parametersJson))
        {
            try
            {
                parameters = JsonSerializer.Deserialize<JobParameters>(parametersJson, Json) ?? parameters;
            }
            catch (JsonException e)
            {
                throw Malformed($"'parameters' is not valid JSON: {e.Message}");
            }
        }

        parameters = parameters with
        {
            SpacingXMm = Number(fields, "spacingX") ?? parameters.SpacingXMm,
            SpacingYMm = Number(fields, "spacingY") ?? Number(fields, "spacingX") ?? parameters.SpacingYMm,
            SliceThicknessMm = Number(fields, "sliceThickness") ?? parameters.SliceThicknessMm,
            Steps = Number(fields, "steps") is { } steps ? (int)steps : parameters.Steps,
            Seed = Number(fields, "seed") is { } seed ? (long)seed : parameters.Seed,
            Shape = fields.TryGetValue("shape", out var shape) ? ParseShape(shape) : parameters.Shape,
        };
        return new JobSubmission(RequireModel(fields.GetValueOrDefault("model")), input, contentType, parameters, WebhookOrNull(fields.GetValueOrDefault("webhookUrl")));
    }

    private static double? Number(Dictionary<string, string> fields, string name) =>
        !fields.TryGetValue(name, out var text) ? null
        : double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v) ? v
        : throw Malformed($"'{name}' must be a number; got '{text}'");

    private static long[] ParseShape(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var shape = new long[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (!long.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out shape[i]) || shape[i] <= 0)
            {
                throw Malformed($"'shape' must be positive integers separated by commas; got '{text}'");
            }
        }

        return shape;
    }

    private static string RequireModel(string? model) =>
        string.IsNullOrWhiteSpace(model) ? throw Malformed("'model' is required") : model;

    private static string? WebhookOrNull(string? url)
    {
        if (string.IsNullOrWhiteSpace(url))
        {
            return null;
        }

        return Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp) && url.Length <= 2000
            ? uri.AbsoluteUri
            : throw new SubmissionException(StatusCodes.Status422UnprocessableEntity, "bad_webhook_url", $"'webhookUrl' must be an absolute http(s) URL; got '{url}'");
    }

    private static SubmissionException Malformed(string detail) => new(StatusCodes.Status400BadRequest, "malformed_request", detail);

    private sealed record JsonSubmission(string? Model, string? Input, string? ContentType, JobParameters? Parameters, string? WebhookUrl);
}
