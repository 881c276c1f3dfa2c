using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Actors.Client.Api;

/// <summary>Reads a small JSON request body; null when it is missing, not JSON or the wrong shape,
/// so the endpoint answers its own 400 ProblemDetails.</summary>
internal static class JsonBody
{
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);

    public static async Task<T?> ReadAsync<T>(HttpRequest request, int maxBytes = 64 * 1024)
        where T : class
    {
        if (request.ContentLength > maxBytes || !(request.ContentType?.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) ?? false))
        {
            return null;
        }

        try
        {
            return await JsonSerializer.DeserializeAsync<T>(request.Body, Options, request.HttpContext.RequestAborted);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
