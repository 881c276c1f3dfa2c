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
    public static async Task<JobSubmission> ReadAsync(HttpRequest request, long maxInputBytes, long maxVolumeBytes, CancellationToken ct)
    {
        // base64 is 4/3 of the bytes; allow that plus room for the other fields. A volume may be
        // larger than an image: the body may hold the larger, each input is held to its own.
        var largest = Math.Max(maxInputBytes, maxVolumeBytes);
        var maxBody = largest * 4 / 3 + 64 * 1024;
        if (request.ContentLength > maxBody)
        {
            throw new SubmissionException(StatusCodes.Status413PayloadTooLarge, "upload_too_large",
                $"the request is {request.ContentLength} bytes; images may be at most {maxInputBytes} bytes and NIfTI volumes {maxVolumeBytes}");
        }

        var mediaType = MediaTypeHeaderValue.TryParse(request.ContentType, out var parsed) ? parsed.MediaType.Value?.ToLowerInvariant() : null;
        var body = await ReadBodyAsync(request.Body, maxBody, largest, ct);
        var submission = mediaType switch
        {
            "application/json" => FromJson(body),
            "multipart/form-data" => await FromMultipartAsync(body, parsed!, ct),
            _ => throw new SubmissionException(StatusCodes.Status415UnsupportedMediaType, "unsupported_media_type",
                $"send application/json (input as base64) or multipart/form-data (input as a file part); got '{request.ContentType}'"),
        };
        submission = submission with { ContentType = NormalizedType(submission) };
        var volume = submission.ContentType == Inference.Volumes.Nifti.ContentType;
        var limit = volume ? maxVolumeBytes : maxInputBytes;
        if (submission.Input.Length > limit)
        {
            throw new SubmissionException(StatusCodes.Status413PayloadTooLarge, volume ? "volume_too_large" : "upload_too_large",
                $"the {(volume ? "NIfTI volume" : "input")} is {submission.Input.Length} bytes; the limit is {limit}");
        }

        return submission;
    }

    /// <summary>A NIfTI volume is named application/x-nifti whatever it came as: declared so, as
    /// gzip, as a .nii/.nii.gz file, or as octet-stream without a shape that carries NIfTI's magic
    /// (raw float32 with a shape stays raw float32).</summary>
    private static string NormalizedType(JobSubmission s)
    {
        var type = s.ContentType.Split(';')[0].Trim().ToLowerInvariant();
        var named = s.FileName is { } f && (f.EndsWith(".nii", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".nii.gz", StringComparison.OrdinalIgnoreCase));
        var looks = Inference.Volumes.Nifti.LooksLikeNifti(s.Input.Span);
        return type switch
        {
            Inference.Volumes.Nifti.ContentType or "application/gzip" or "application/x-gzip" => Inference.Volumes.Nifti.ContentType,
            _ when named => Inference.Volumes.Nifti.ContentType,
            "application/octet-stream" when s.Parameters.Shape is null && looks => Inference.Volumes.Nifti.ContentType,
            _ => s.ContentType,
        };
    }

    private static async Task<byte[]> ReadBodyAsync(Stream body, long maxBody, long maxInput, CancellationToken ct) =>
        await BoundedBody.ReadAsync(body, maxBody, ct)
            ?? throw new SubmissionException(StatusCodes.Status413PayloadTooLarge, "upload_too_large", $"the request is over the limit; inputs may be at most {maxInput} bytes");

    /// <summary>Top-level names of a JSON job.</summary>
    private static readonly HashSet<string> JsonFields = new(StringComparer.Ordinal) { "model", "input", "contentType", "parameters", "webhookUrl" };

    /// <summary>Form fields of a multipart job besides the parameters (which may also come as
    /// one JSON field, <c>parameters</c>).</summary>
    private static readonly HashSet<string> FormFields = new(StringComparer.Ordinal) { "model", "webhookUrl", "parameters", "contentType" };

    private static JobSubmission FromJson(byte[] body)
    {
        if (JsonText.Problem(body) is { } text)
        {
            throw Malformed(text);
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException e)
        {
            throw Malformed($"the body is not valid JSON: {e.Message}");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw Malformed("the body must be a JSON object with 'model' and, for image models, 'input'");
            }

            JobParameterContract.RefuseUnknown(root.EnumerateObject().Select(p => p.Name), "the job", JsonFields);
            var input = Text(root, "input") is { Length: > 0 } base64
                ? Base64(base64)
                : [];
            var contentType = Text(root, "contentType") ?? (input.Length > 0 ? "image/png" : "");
            var parameters = root.TryGetProperty("parameters", out var p) ? JobParameterContract.FromJson(p) : new JobParameters();
            return new JobSubmission(RequireModel(Text(root, "model")), input, contentType, parameters, WebhookOrNull(Text(root, "webhookUrl")));
        }
    }

    /// <summary>A string field of the job, or null; another JSON type is a 422 naming it.</summary>
    private static string? Text(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            throw JobParameterContract.Bad(name, $"'{name}' must be a string; got {value.ValueKind.ToString().ToLowerInvariant()}");
        }

        return value.GetString();
    }

    private static byte[] Base64(string text)
    {
        try
        {
            return Convert.FromBase64String(text);
        }
        catch (FormatException)
        {
            throw Malformed("'input' is not valid base64");
        }
    }

    private static async Task<JobSubmission> FromMultipartAsync(byte[] body, MediaTypeHeaderValue mediaType, CancellationToken ct)
    {
        var boundary = HeaderUtilities.RemoveQuotes(mediaType.Boundary).Value;
        if (string.IsNullOrEmpty(boundary))
        {
            throw Malformed("multipart/form-data needs a boundary");
        }

        var reader = new MultipartReader(boundary, new MemoryStream(body));
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        byte[] input = [];
        string contentType = "";
        string? fileName = null;
        var sawInput = false;
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
                    if (sawInput)
                    {
                        throw new SubmissionException(StatusCodes.Status422UnprocessableEntity, "bad_parameter", "send one input file; this form has more");
                    }

                    sawInput = true;
                    input = data.ToArray();
                    contentType = section.ContentType ?? "image/png";
                    fileName = HeaderUtilities.RemoveQuotes(disposition.FileName).Value;
                }
                else if (JsonText.DecodeStrict(data.ToArray()) is not { } value)
                {
                    throw Malformed($"the form field '{name}' is not valid UTF-8");
                }
                else if (!fields.TryAdd(name, value))
                {
                    throw new SubmissionException(StatusCodes.Status422UnprocessableEntity, "bad_parameter", $"'{name}' is given more than once");
                }
            }
        }
        catch (Exception e) when (e is IOException or InvalidDataException)
        {
            throw Malformed($"the multipart body is malformed: {e.Message}"); // e.g. a section header over 16 KB
        }

        var parameters = JobParameterContract.FromText(fields, FormFields, "the form");
        if (fields.TryGetValue("parameters", out var parametersJson))
        {
            if (fields.Keys.Any(JobParameterContract.Names.Contains))
            {
                throw new SubmissionException(StatusCodes.Status422UnprocessableEntity, "bad_parameter",
                    "send the parameters either as form fields or as one 'parameters' JSON field, not both");
            }

            if (JsonText.Problem(System.Text.Encoding.UTF8.GetBytes(parametersJson)) is { } text)
            {
                throw Malformed($"'parameters': {text}");
            }

            try
            {
                using var json = JsonDocument.Parse(parametersJson);
                parameters = JobParameterContract.FromJson(json.RootElement);
            }
            catch (JsonException e)
            {
                throw Malformed($"'parameters' is not valid JSON: {e.Message}");
            }
        }

        if (fields.TryGetValue("contentType", out var declared) && declared.Length > 0)
        {
            contentType = declared;
        }

        return new JobSubmission(RequireModel(fields.GetValueOrDefault("model")), input, contentType, parameters, WebhookOrNull(fields.GetValueOrDefault("webhookUrl")))
        {
            FileName = fileName,
        };
    }

    private static string RequireModel(string? model) =>
        string.IsNullOrWhiteSpace(model) ? throw Malformed("'model' is required") : model;

    /// <summary>The receiver URL as the dispatcher will use it. Refused (422): not absolute
    /// http(s), over 2,000 characters, holding a control, format (bidi, zero-width), surrogate or
    /// unassigned character anywhere, or one whose normalised form does not parse again (the host
    /// of <c>https://\u202e.com/</c> loses its character and then names nothing).</summary>
    private static string? WebhookOrNull(string? url)
    {
        if (string.IsNullOrWhiteSpace(url))
        {
            return null;
        }

        var bad = url.FirstOrDefault(c => char.GetUnicodeCategory(c) is System.Globalization.UnicodeCategory.Control or System.Globalization.UnicodeCategory.Format
            or System.Globalization.UnicodeCategory.Surrogate or System.Globalization.UnicodeCategory.OtherNotAssigned
            or System.Globalization.UnicodeCategory.LineSeparator or System.Globalization.UnicodeCategory.ParagraphSeparator || char.IsWhiteSpace(c));
        if (bad != default)
        {
            throw BadWebhook($"'webhookUrl' may not hold control, format or space characters; it has U+{(int)bad:X4}");
        }

        if (url.Length > 2000 || !Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp)
            || ReparsedOrNull(uri) is not { } normalised)
        {
            throw BadWebhook($"'webhookUrl' must be an absolute http(s) URL of at most 2000 characters; got '{Shown(url)}'");
        }

        return normalised;
    }

    /// <summary>The URL's normalised text if it parses to the same host again, and the host has an
    /// IDN form (what a connection uses); otherwise null.</summary>
    private static string? ReparsedOrNull(Uri uri)
    {
        try
        {
            return uri.Host.Length > 0 && uri.IdnHost.Length > 0 && Uri.TryCreate(uri.AbsoluteUri, UriKind.Absolute, out var again)
                && string.Equals(again.IdnHost, uri.IdnHost, StringComparison.OrdinalIgnoreCase) && again.Port == uri.Port
                ? uri.AbsoluteUri
                : null;
        }
        catch (Exception e) when (e is UriFormatException or InvalidOperationException or ArgumentException)
        {
            return null;
        }
    }

    private static string Shown(string text) => text.Length > 200 ? text[..200] + "…" : text;

    private static SubmissionException BadWebhook(string detail) => new(StatusCodes.Status422UnprocessableEntity, "bad_webhook_url", detail);

    private static SubmissionException Malformed(string detail) => new(StatusCodes.Status400BadRequest, "malformed_request", detail);
}
