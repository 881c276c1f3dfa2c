using Actors.Inference.Imaging;

namespace Actors.Inference.Tests;

/// <summary>CT-style phantoms drawn with the conventions of models/export.py: air 0, body 0.2,
/// organ k at a fixed intensity, Gaussian noise. Discs have known true areas.</summary>
internal static class Phantoms
{
    public static readonly IReadOnlyDictionary<int, float> Intensity = new Dictionary<int, float>
    {
        [1] = 0.40f, [2] = 0.60f, [3] = 0.80f, [4] = 1.00f,
    };

    public sealed record Disc(int Label, double CenterX, double CenterY, double Radius)
    {
        public double Area => Math.PI * Radius * Radius;
    }

    /// <summary>Intensities in [0, 1] at size x size, discs drawn in order.</summary>
    public static float[] Draw(int size, IReadOnlyList<Disc> discs, int seed, double scale = 1.0)
    {
        var rng = new Random(seed);
        var img = new float[size * size];
        for (var y = 0; y < size; y++)
        {
            for (var x = 0; x < size; x++)
            {
                double u = (x + 0.5) / scale, v = (y + 0.5) / scale;
                float value = 0;
                if (Sq(u - 64) + Sq(v - 64) <= Sq(56))
                {
                    value = 0.2f;
                }

                foreach (var d in discs)
                {
                    if (Sq(u - d.CenterX) + Sq(v - d.CenterY) <= Sq(d.Radius))
                    {
                        value = Intensity[d.Label];
                    }
                }

                var noise = Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()) * 0.03;
                img[y * size + x] = (float)Math.Clamp(value + noise, 0, 1);
            }
        }

        return img;
    }

    public static byte[] Png8(float[] img, int size) =>
        ImageCodec.EncodePng(size, size, 1, img.Select(v => (byte)Math.Round(v * 255)).ToArray());

    public static byte[] Png16(float[] img, int size) =>
        ImageCodec.EncodePng16(size, size, 1, img.Select(v => (ushort)Math.Round(v * 65535)).ToArray());

    private static double Sq(double v) => v * v;
}
