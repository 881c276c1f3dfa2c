namespace Actors.Inference.Imaging;

/// <summary>The Free plan's watermark on generated images (seed 003: "Free tier … watermark"):
/// the word FREE in the bottom-right corner, light strokes over a dark shadow so it reads on any
/// background, scaled with the image. Only that corner changes; the result is an 8-bit PNG with
/// the image's size and channels. Deterministic: the same image always gets the same bytes.</summary>
public static class Watermark
{
    public const string Text = "FREE";

    // 3×5 glyphs, one row per string, '#' = ink.
    private static readonly Dictionary<char, string[]> Glyphs = new()
    {
        ['F'] = ["###", "#..", "##.", "#..", "#.."],
        ['R'] = ["##.", "#.#", "##.", "#.#", "#.#"],
        ['E'] = ["###", "#..", "##.", "#..", "###"],
    };

    private const int GlyphWidth = 3;
    private const int GlyphHeight = 5;
    private const float Ink = 0.8f;
    private const float Shadow = 0.55f;

    /// <summary>Where the mark goes in a <paramref name="width"/>×<paramref name="height"/>
    /// image: (left, top, width, height, scale) — the text plus its shadow.</summary>
    public static (int X, int Y, int Width, int Height, int Scale) Area(int width, int height)
    {
        var scale = Math.Max(1, Math.Min(width, height) / 64);
        var textWidth = ((Text.Length * (GlyphWidth + 1)) - 1) * scale;
        var textHeight = GlyphHeight * scale;
        var margin = 2 * scale;
        return (Math.Max(0, width - textWidth - margin - scale), Math.Max(0, height - textHeight - margin - scale), textWidth + scale, textHeight + scale, scale);
    }

    /// <summary>Stamps a PNG (grey or RGB, 8 or 16 bits; alpha dropped) and returns the new PNG.</summary>
    public static byte[] Stamp(ReadOnlySpan<byte> png, long maxPixels = 64L * 1024 * 1024)
    {
        var image = ImageCodec.Decode(png, maxPixels);
        var (w, h, channels) = (image.Width, image.Height, image.Channels);
        var plane = w * h;
        var pixels = (float[])image.Pixels.Clone();
        var (x0, y0, _, _, scale) = Area(w, h);

        // Shadow first (one scaled pixel down and right), then the strokes over it.
        Draw(pixels, w, h, channels, x0 + scale, y0 + scale, scale, v => v * (1 - Shadow));
        Draw(pixels, w, h, channels, x0, y0, scale, v => v + ((1 - v) * Ink));

        var samples = new byte[plane * channels];
        for (var i = 0; i < plane; i++)
        {
            for (var c = 0; c < channels; c++)
            {
                samples[(i * channels) + c] = (byte)Math.Clamp(MathF.Round(pixels[(c * plane) + i] * 255f), 0, 255);
            }
        }

        return ImageCodec.EncodePng(w, h, channels, samples);
    }

    private static void Draw(float[] pixels, int w, int h, int channels, int left, int top, int scale, Func<float, float> paint)
    {
        var plane = w * h;
        for (var g = 0; g < Text.Length; g++)
        {
            var glyph = Glyphs[Text[g]];
            for (var gy = 0; gy < GlyphHeight; gy++)
            {
                for (var gx = 0; gx < GlyphWidth; gx++)
                {
                    if (glyph[gy][gx] != '#')
                    {
                        continue;
                    }

                    for (var dy = 0; dy < scale; dy++)
                    {
                        for (var dx = 0; dx < scale; dx++)
                        {
                            var x = left + (((g * (GlyphWidth + 1)) + gx) * scale) + dx;
                            var y = top + (gy * scale) + dy;
                            if (x < 0 || y < 0 || x >= w || y >= h)
                            {
                                continue;
                            }

                            for (var c = 0; c < channels; c++)
                            {
                                ref var p = ref pixels[(c * plane) + (y * w) + x];
                                p = paint(p);
                            }
                        }
                    }
                }
            }
        }
    }
}
