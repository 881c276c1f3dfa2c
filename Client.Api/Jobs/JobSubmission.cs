using Actors.Grains.Jobs;

namespace Actors.Client.Api.Jobs;

/// <summary>A parsed <c>POST /v1/jobs</c>: model, input bytes and their type, parameters, webhook.</summary>
internal sealed record JobSubmission(string Model, ReadOnlyMemory<byte> Input, string ContentType, JobParameters Parameters, string? WebhookUrl)
{
    /// <summary>The file name a multipart upload gave its input part, if any.</summary>
    public string? FileName { get; init; }
}
