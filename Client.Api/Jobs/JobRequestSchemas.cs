using System.ComponentModel;
using Microsoft.AspNetCore.Http;

namespace Actors.Client.Api.Jobs;

/// <summary>The request bodies of <c>POST /v1/jobs</c> as OpenAPI shows them. The reader
/// (<see cref="JobSubmissionReader"/>) does not bind these types; it enforces the same names through
/// <see cref="JobParameterContract"/>, and a test checks that the two agree.</summary>
internal static class JobRequestSchemas
{
    [Description("A job as JSON: the input travels base64-encoded. Unknown fields are a 422 unknown_fields.")]
    internal sealed class JsonJob
    {
        [Description("Model name (GET /v1/models)")]
        public required string Model { get; init; }

        [Description("The upload, base64: an image (PNG, JPEG, BMP, TIFF, WebP) or raw little-endian float32 with parameters.shape; omit for diffusion")]
        public string? Input { get; init; }

        [Description("image/png (default when input is given), image/jpeg, image/bmp, image/tiff, image/webp, or application/octet-stream for raw float32")]
        public string? ContentType { get; init; }

        public JobParameters? Parameters { get; init; }

        [Description("Where to POST the result (public http(s) only; see docs/cluster.md)")]
        public string? WebhookUrl { get; init; }
    }

    [Description("A job's parameters: the same names, types and ranges in JSON and in multipart form fields. Nothing is coerced.")]
    internal class JobParameters
    {
        [Description("Raw float32 input: [C, H, W] (1 to 4 positive integers); as a form field \"C,H,W\"")]
        public long[]? Shape { get; init; }

        [Description("Segmentation: pixel width in mm, > 0 and <= 1000 (default 1)")]
        public double? SpacingXMm { get; init; }

        [Description("Segmentation: pixel height in mm, > 0 and <= 1000 (default: spacingXMm)")]
        public double? SpacingYMm { get; init; }

        [Description("Segmentation: slice thickness in mm, > 0 and <= 1000; volumes are reported when given")]
        public double? SliceThicknessMm { get; init; }

        [Description("Diffusion: DDIM steps, an integer from 1 to 1000 (the model may allow fewer)")]
        public int? Steps { get; init; }

        [Description("Diffusion: noise seed, a 64-bit integer")]
        public long? Seed { get; init; }

        [Description("Diffusion: what to draw, one of the model's labels (GET /v1/models), e.g. \"red circle\"; none: anything")]
        public string? Prompt { get; init; }

        [Description("Diffusion: classifier-free guidance scale, 0 to the model's maximum (default: the model's)")]
        public double? Guidance { get; init; }
    }

    [Description("A job as multipart/form-data: the input as a file part; parameters as fields of the same names as in JSON (or one 'parameters' field of JSON, not both). Unknown fields are a 422 unknown_fields.")]
    internal sealed class FormJob : JobParameters
    {
        public required string Model { get; init; }

        [Description("The upload (a file part; its Content-Type is the input's)")]
        public IFormFile? Input { get; init; }

        [Description("Overrides the file part's Content-Type")]
        public string? ContentType { get; init; }

        public string? WebhookUrl { get; init; }

        [Description("All parameters as one JSON object, instead of separate fields")]
        public string? Parameters { get; init; }
    }
}
