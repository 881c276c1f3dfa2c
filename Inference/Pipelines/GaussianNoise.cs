namespace Actors.Inference.Pipelines;

/// <summary>Seeded standard-normal noise (SplitMix64 + Box-Muller): the same seed gives the
/// same numbers on every machine and .NET version.</summary>
internal sealed class GaussianNoise(long seed)
{
    private ulong _state = unchecked((ulong)seed);
    private double? _spare;

    public float[] Next(int count)
    {
        var values = new float[count];
        for (var i = 0; i < count; i++)
        {
            values[i] = (float)NextGaussian();
        }

        return values;
    }

    private double NextGaussian()
    {
        if (_spare is { } s)
        {
            _spare = null;
            return s;
        }

        var u1 = (NextUInt64() >> 11) * (1.0 / (1UL << 53));
        var u2 = (NextUInt64() >> 11) * (1.0 / (1UL << 53));
        var r = Math.Sqrt(-2.0 * Math.Log(1.0 - u1));
        _spare = r * Math.Sin(2 * Math.PI * u2);
        return r * Math.Cos(2 * Math.PI * u2);
    }

    private ulong NextUInt64()
    {
        unchecked
        {
            var z = _state += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }
}
