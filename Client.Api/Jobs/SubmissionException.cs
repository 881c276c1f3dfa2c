namespace Actors.Client.Api.Jobs;

/// <summary>A submission the API refuses, with the status and problem code to answer, and any
/// headers (Retry-After, RateLimit-*) and problem extensions (where to buy credits).</summary>
internal sealed class SubmissionException(int status, string code, string detail) : Exception(detail)
{
    public int Status { get; } = status;

    public string Code { get; } = code;

    public Dictionary<string, string> Headers { get; } = [];

    public Dictionary<string, object?> Extensions { get; } = [];
}
