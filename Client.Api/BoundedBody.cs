namespace Actors.Client.Api;

/// <summary>Reads a request body into memory, at most <c>max</c> bytes (a client may send more
/// than its Content-Length says, or none): null as soon as it is over, so the caller answers 413
/// (or its own refusal) without reading the rest.</summary>
internal static class BoundedBody
{
    public static async Task<byte[]?> ReadAsync(Stream body, long max, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int n;
        while ((n = await body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + n > max)
            {
                return null;
            }

            buffer.Write(chunk, 0, n);
        }

        return buffer.ToArray();
    }
}
