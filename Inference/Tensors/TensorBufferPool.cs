using System.Collections.Concurrent;

namespace Actors.Inference.Tensors;

/// <summary>Exact-size reuse of large tensor arrays. A model's outputs have the same sizes
/// every call, so handing them back (<see cref="Tensor.Recycle"/>) lets the next forward copy
/// into warm memory instead of fresh pages (page faults, large-object-heap collections).
/// Arrays never handed back are simply collected.</summary>
internal static class TensorBufferPool
{
    private const int MinPooledLength = 16 * 1024;
    private const int MaxPerLength = 64;
    private static readonly ConcurrentDictionary<int, ConcurrentBag<float[]>> Floats = new();
    private static readonly ConcurrentDictionary<int, ConcurrentBag<long[]>> Longs = new();

    public static float[] RentFloats(int length) =>
        length >= MinPooledLength && Floats.TryGetValue(length, out var bag) && bag.TryTake(out var array)
            ? array
            : GC.AllocateUninitializedArray<float>(length);

    public static long[] RentLongs(int length) =>
        length >= MinPooledLength && Longs.TryGetValue(length, out var bag) && bag.TryTake(out var array)
            ? array
            : GC.AllocateUninitializedArray<long>(length);

    public static void Return(float[] array)
    {
        if (array.Length >= MinPooledLength)
        {
            var bag = Floats.GetOrAdd(array.Length, _ => []);
            if (bag.Count < MaxPerLength)
            {
                bag.Add(array);
            }
        }
    }

    public static void Return(long[] array)
    {
        if (array.Length >= MinPooledLength)
        {
            var bag = Longs.GetOrAdd(array.Length, _ => []);
            if (bag.Count < MaxPerLength)
            {
                bag.Add(array);
            }
        }
    }
}
