using Actors.Inference.Imaging;

namespace Actors.Inference.Tests.Imaging;

/// <summary>The Free plan's watermark: only its corner changes, it shows on dark and light
/// images, it scales with the image, and it is deterministic.</summary>
public sealed class WatermarkTests
{
    private static byte[] Rgb(int w, int h, Func<int, int, int, byte> sample)
    {
        var samples = new byte[w * h * 3];
        for (var y = 0; y < h; y++)
        {
            for (var x = 0; x < w; x++)
            {
                for (var c = 0; c < 3; c++)
                {
                    samples[(((y * w) + x) * 3) + c] = sample(x, y, c);
                }
            }
        }

        return ImageCodec.EncodePng(w, h, 3, samples);
    }

    private static byte At(DecodedImage image, int x, int y, int c) =>
        (byte)Math.Round(image.Pixels[(c * image.Width * image.Height) + (y * image.Width) + x] * 255);

    [Fact]
    public void OnlyTheBottomRightCornerChangesAndTheMarkIsLightOverDark()
    {
        var original = Rgb(64, 64, (x, y, c) => (byte)(20 + x + y + (c * 10))); // 20..166: room to lighten and darken
        var stamped = Watermark.Stamp(original);
        var before = ImageCodec.Decode(original, 1 << 20);
        var after = ImageCodec.Decode(stamped, 1 << 20);
        Assert.Equal((64, 64, 3), (after.Width, after.Height, after.Channels));

        var (ax, ay, aw, ah, scale) = Watermark.Area(64, 64);
        Assert.Equal(1, scale);
        Assert.True(ax + aw <= 64 && ay + ah <= 64 && ax > 32 && ay > 48, $"area {ax},{ay} {aw}×{ah}");
        int lighter = 0, darker = 0;
        for (var y = 0; y < 64; y++)
        {
            for (var x = 0; x < 64; x++)
            {
                for (var c = 0; c < 3; c++)
                {
                    var (b, a) = (At(before, x, y, c), At(after, x, y, c));
                    var inside = x >= ax && x < ax + aw && y >= ay && y < ay + ah;
                    if (!inside)
                    {
                        Assert.True(a == b, $"({x},{y},{c}) outside the mark changed: {b} → {a}");
                    }
                    else if (a > b)
                    {
                        lighter++;
                    }
                    else if (a < b)
                    {
                        darker++;
                    }
                }
            }
        }

        // F R E E: 8 + 10 + 10 + 10 ink pixels, per channel; the shadow shows where the ink does not cover it.
        Assert.Equal(38 * 3, lighter);
        Assert.True(darker > 20 * 3, $"{darker} darker samples");
        Assert.Equal(stamped, Watermark.Stamp(original)); // deterministic
    }

    [Fact]
    public void TheMarkShowsOnBlackAndOnWhite()
    {
        foreach (var level in new byte[] { 0, 255 })
        {
            var after = ImageCodec.Decode(Watermark.Stamp(Rgb(64, 64, (_, _, _) => level)), 1 << 20);
            var (ax, ay, aw, ah, _) = Watermark.Area(64, 64);
            var changed = 0;
            for (var y = ay; y < ay + ah; y++)
            {
                for (var x = ax; x < ax + aw; x++)
                {
                    changed += Math.Abs(At(after, x, y, 0) - level) > 100 ? 1 : 0;
                }
            }

            Assert.True(changed >= 20, $"on {level}: only {changed} pixels stand out");
        }
    }

    [Fact]
    public void ItScalesWithTheImageAndKeepsGreyImagesGrey()
    {
        var (_, _, w256, h256, scale) = Watermark.Area(256, 256);
        Assert.Equal(4, scale);
        Assert.Equal(Watermark.Area(64, 64).Width * 4, w256);
        Assert.Equal(Watermark.Area(64, 64).Height * 4, h256);

        var grey = ImageCodec.EncodePng(100, 80, 1, Enumerable.Repeat((byte)90, 100 * 80).ToArray());
        var stamped = ImageCodec.Decode(Watermark.Stamp(grey), 1 << 20);
        Assert.Equal((100, 80, 1), (stamped.Width, stamped.Height, stamped.Channels));
        Assert.Contains(stamped.Pixels, v => v > 0.5f);

        // Smaller than the mark: clipped, not an error.
        Assert.Equal(4, ImageCodec.Decode(Watermark.Stamp(ImageCodec.EncodePng(4, 3, 1, new byte[12])), 100).Width);
    }
}
