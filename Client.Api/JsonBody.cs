using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Actors.Client.Api;

/// <summary>Reads a small JSON request body; null when it is missing, too large, not JSON or the
/// wrong shape, so the endpoint answers its own 400 ProblemDetails; text that is not UTF-8 or holds
/// a lone surrogate is a 400 saying where (<see cref="JsonText"/>). A field the body type does not have is
/// not ignored: <see cref="UnknownJsonFieldException"/>, a 422 <c>unknown_fields</c> (as for jobs).</summary>
internal static class JsonBody
{
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
    };

    public static async Task<T?> ReadAsync<T>(HttpRequest request, int maxBytes = 64 * 1024)
        where T : class
    {
        if (request.ContentLength > maxBytes || !(request.ContentType?.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) ?? false))
        {
            return null;
        }

        if (await BoundedBody.ReadAsync(request.Body, maxBytes, request.HttpContext.RequestAborted) is not { } body)
        {
            return null;
        }

        if (JsonText.Problem(body) is { } text)
        {
            throw new BadHttpRequestException(text, StatusCodes.Status400BadRequest);
        }

        try
        {
            return JsonSerializer.Deserialize<T>(body, Options);
        }
        catch (JsonException e) when (e.Message.Contains("could not be mapped", StringComparison.Ordinal))
        {
            var known = typeof(T).GetProperties().Select(p => JsonNamingPolicy.CamelCase.ConvertName(p.Name)).Order(StringComparer.Ordinal);
            throw new UnknownJsonFieldException($"unknown field '{e.Path?.TrimStart('$', '.')}'; this body takes: {string.Join(", ", known)}");
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>A JSON body named a field its endpoint does not take.</summary>
internal sealed class UnknownJsonFieldException(string message) : Exception(message);
