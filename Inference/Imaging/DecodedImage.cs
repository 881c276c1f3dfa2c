namespace Actors.Inference.Imaging;

/// <summary>An image as planar floats in [0, 1] (channel, row, column); alpha dropped.</summary>
public sealed record DecodedImage(int Width, int Height, int Channels, int BitDepth, float[] Pixels)
{
    /// <summary>True when every pixel has equal R, G and B (a grey image saved as RGB).</summary>
    public bool IsGrayAsRgb()
    {
        if (Channels != 3)
        {
            return false;
        }

        var plane = Width * Height;
        for (var i = 0; i < plane; i++)
        {
            if (Pixels[i] != Pixels[plane + i] || Pixels[i] != Pixels[2 * plane + i])
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The first channel only, as a one-channel image.</summary>
    public DecodedImage FirstChannel() =>
        Channels == 1 ? this : this with { Channels = 1, Pixels = Pixels.AsSpan(0, Width * Height).ToArray() };
}
