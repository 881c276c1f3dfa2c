using Microsoft.AspNetCore.Http;

namespace Actors.Client.Api;

/// <summary>Every error is a ProblemDetails: <c>type</c> is a stable code, <c>detail</c> says what to fix.</summary>
internal static class Problems
{
    public static IResult Of(int status, string code, string detail, IDictionary<string, object?>? extensions = null) =>
        TypedResults.Problem(title: code.Replace('_', ' '), detail: detail, statusCode: status, type: code, extensions: extensions);

    public static IResult BadRequest(string code, string detail) => Of(StatusCodes.Status400BadRequest, code, detail);

    public static IResult Unauthorized(string detail) => Of(StatusCodes.Status401Unauthorized, "unauthorized", detail);

    public static IResult Forbidden(string detail) => Of(StatusCodes.Status403Forbidden, "forbidden", detail);

    public static IResult NotFound(string code, string detail) => Of(StatusCodes.Status404NotFound, code, detail);

    public static IResult Unprocessable(string code, string detail) => Of(StatusCodes.Status422UnprocessableEntity, code, detail);

    public static IResult TooLarge(string detail) => Of(StatusCodes.Status413PayloadTooLarge, "upload_too_large", detail);

    public static IResult Conflict(string code, string detail) => Of(StatusCodes.Status409Conflict, code, detail);
}
