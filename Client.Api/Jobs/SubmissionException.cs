namespace Actors.Client.Api.Jobs;

/// <summary>A submission the API refuses, with the status and problem code to answer.</summary>
internal sealed class SubmissionException(int status, string code, string detail) : Exception(detail)
{
    public int Status { get; } = status;

    public string Code { get; } = code;
}
