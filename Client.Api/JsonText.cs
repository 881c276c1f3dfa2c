using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace Actors.Client.Api;

/// <summary>What System.Text.Json parses but cannot turn into .NET strings: bytes that are not
/// UTF-8 (<c>0xFF</c> inside a string or a property name) and escapes that are not UTF-16 (a lone
/// surrogate, <c>"\ud800"</c>). Both pass <see cref="JsonDocument.Parse(ReadOnlyMemory{byte}, JsonDocumentOptions)"/>
/// and throw <see cref="InvalidOperationException"/> only when the string is read, wherever that
/// is; so every JSON body is checked here, whole, before anything reads it, and is refused with
/// where the bad text is.</summary>
public static class JsonText
{
    private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Null if every string and name in <paramref name="json"/> is valid text (or the
    /// body is not JSON at all: the parser says so itself); else what is wrong and where.</summary>
    public static string? Problem(ReadOnlySpan<byte> json)
    {
        if (InvalidUtf8At(json) is { } offset)
        {
            return $"the body is not valid UTF-8 (byte 0x{json[offset]:X2} at offset {offset})";
        }

        var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, MaxDepth = 256 });
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName && reader.ValueIsEscaped)
                {
                    try
                    {
                        _ = reader.GetString();
                    }
                    catch (InvalidOperationException)
                    {
                        return $"the JSON {(reader.TokenType == JsonTokenType.PropertyName ? "name" : "string")} at offset {reader.TokenStartIndex} " +
                               "escapes a lone UTF-16 surrogate (\\uD800-\\uDFFF without its pair)";
                    }
                }
            }
        }
        catch (JsonException)
        {
            return null; // not JSON: the caller's parser reports it in its own words
        }

        return null;
    }

    /// <summary>The offset of the first byte that is not part of valid UTF-8, or null.</summary>
    public static int? InvalidUtf8At(ReadOnlySpan<byte> bytes)
    {
        if (Utf8.IsValid(bytes))
        {
            return null;
        }

        var chars = ArrayPool<char>.Shared.Rent(Math.Min(bytes.Length, 4096));
        try
        {
            var offset = 0;
            while (true)
            {
                var status = Utf8.ToUtf16(bytes[offset..], chars, out var read, out _, replaceInvalidSequences: false);
                offset += read;
                if (status != OperationStatus.DestinationTooSmall)
                {
                    return status == OperationStatus.Done ? null : offset;
                }
            }
        }
        finally
        {
            ArrayPool<char>.Shared.Return(chars);
        }
    }

    /// <summary>Decodes form or header bytes as UTF-8, refusing invalid ones (null) instead of
    /// replacing them with U+FFFD, so text that names something never names it by accident.</summary>
    public static string? DecodeStrict(ReadOnlySpan<byte> bytes)
    {
        try
        {
            return Strict.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }
}
