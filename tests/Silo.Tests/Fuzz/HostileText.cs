using System.Text;
using System.Text.RegularExpressions;
using FsCheck;
using FsCheck.Fluent;

namespace Actors.Silo.Tests.Fuzz;

/// <summary>Text attacks a body's shape does not show, for the fuzz suite: bytes that are not UTF-8
/// put anywhere in a body (inside a string, inside a property name, between tokens), JSON escapes
/// of lone UTF-16 surrogates in any string or name, Unicode format and control characters and
/// blank identifiers as values of every string field and header. Each is a class that once gave
/// a 500 somewhere; generated over every route so a new field cannot bring one back.</summary>
internal static partial class HostileText
{
    /// <summary>Format (bidi, zero-width, BOM), control and separator characters, blank and
    /// whitespace-only values, and URLs built of them.</summary>
    public static readonly string[] Strings =
    [
        "\u202e", "\u202a", "\u2066", "\u200b", "\u200d", "\ufeff", "\u2028", "\u2029", "\u0001", "\u001f", "\u007f", "\u0085", "\t", "\u00a0", "\u3000",
        "", " ", "   ", "\t\t", "a\u0000b", "id\u202e", "https://\u202e.com/", "https://ex\u200bample.com/x", "http://\u00a0/", "https://a.com/\u2028",
        "\u0661\u0662", "e\u0301", "\ud83d\ude00",
    ];

    /// <summary>Header values: the same classes, less what HTTP itself cannot carry (CR, LF, NUL).</summary>
    public static readonly string[] HeaderValues = [.. Strings.Where(s => !s.Any(c => c is '\r' or '\n' or '\0' or '\u2028' or '\u2029' or '\u0085'))];

    /// <summary>Sequences no UTF-8 decoder may accept: a byte never used, an overlong '/', a
    /// surrogate encoded as if a scalar (CESU), a sequence cut short, a lone continuation byte,
    /// a five-byte form, a code point past U+10FFFF.</summary>
    private static readonly byte[][] InvalidUtf8 =
    [
        [0xFF], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xE2, 0x82], [0x80], [0xF8, 0x88, 0x80, 0x80, 0x80], [0xF4, 0x90, 0x80, 0x80],
    ];

    /// <summary>JSON escapes that are valid JSON but not UTF-16.</summary>
    private static readonly string[] LoneSurrogates = [@"\ud800", @"\udfff", @"a\ud83dz", @"\udc00\ud800", @"\uDBFF"];

    public enum Kind
    {
        None,
        InvalidUtf8,
        LoneSurrogate,
    }

    /// <summary>What to do to a body: which attack, where (0..1 of the chosen span), which string.</summary>
    public sealed record Mutation(Kind Kind, double Where, int Which, int What);

    public static Gen<Mutation> Mutations { get; } =
        from kind in Gen.Frequency((4, Gen.Constant(Kind.None)), (1, Gen.Constant(Kind.InvalidUtf8)), (1, Gen.Constant(Kind.LoneSurrogate)))
        from at in Gen.Choose(0, 1000).Select(n => n / 1000.0)
        from which in Gen.Choose(0, 63)
        from what in Gen.Choose(0, 63)
        select new Mutation(kind, at, which, what);

    /// <summary>The body with the mutation applied: invalid bytes inside one of its strings (names
    /// included) or, one time in four, at any byte; a lone surrogate escape inside one of its JSON
    /// strings (in a form, where escapes mean nothing, the surrogate's CESU bytes instead).</summary>
    public static byte[] Apply(Mutation m, byte[] body, bool json)
    {
        if (m.Kind == Kind.None || body.Length == 0)
        {
            return body;
        }

        var text = Encoding.UTF8.GetString(body);
        var strings = StringToken().Matches(text);
        int At(int chars) => Encoding.UTF8.GetByteCount(text.AsSpan(0, chars));
        int position;
        if (strings.Count == 0 || m.Which % 4 == 0)
        {
            position = (int)(m.Where * body.Length);
        }
        else
        {
            var token = strings[m.Which % strings.Count];
            position = At(token.Index + 1 + (int)(m.Where * (token.Length - 2)));
        }

        byte[] inserted = m.Kind == Kind.LoneSurrogate && json && strings.Count > 0
            ? Encoding.ASCII.GetBytes(LoneSurrogates[m.What % LoneSurrogates.Length])
            : InvalidUtf8[m.What % InvalidUtf8.Length];
        if (m.Kind == Kind.LoneSurrogate && json && strings.Count > 0 && m.Which % 4 == 0)
        {
            var token = strings[m.What % strings.Count]; // an escape only means something inside a string
            position = At(token.Index + 1);
        }

        return [.. body.AsSpan(0, position), .. inserted, .. body.AsSpan(position)];
    }

    public static string Describe(Mutation m) => m.Kind == Kind.None ? "" : $" [{m.Kind} at {m.Where:0.00} of string {m.Which}]";

    [GeneratedRegex("\"(?:[^\"\\\\]|\\\\.)*\"")]
    private static partial Regex StringToken();
}
