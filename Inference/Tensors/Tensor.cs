using Actors.Inference.Errors;

namespace Actors.Inference.Tensors;

/// <summary>A dense row-major host tensor: float32 or int64 elements and a shape.</summary>
public sealed class Tensor
{
    private Tensor(TensorDType dtype, long[] shape, float[]? floats, long[]? longs)
    {
        DType = dtype;
        Shape = shape;
        Float32Data = floats;
        Int64Data = longs;
    }

    public TensorDType DType { get; }

    public IReadOnlyList<long> Shape { get; }

    public long ElementCount => ElementCountOf(Shape);

    /// <summary>The elements when <see cref="DType"/> is float32, else null.</summary>
    public float[]? Float32Data { get; }

    /// <summary>The elements when <see cref="DType"/> is int64, else null.</summary>
    public long[]? Int64Data { get; }

    public float[] Floats => Float32Data ?? throw new InvalidInputException($"tensor is {DType}, not Float32");

    public long[] Longs => Int64Data ?? throw new InvalidInputException($"tensor is {DType}, not Int64");

    public static Tensor FromFloat32(float[] data, params long[] shape)
    {
        Check(data.LongLength, shape);
        return new Tensor(TensorDType.Float32, (long[])shape.Clone(), data, null);
    }

    public static Tensor FromInt64(long[] data, params long[] shape)
    {
        Check(data.LongLength, shape);
        return new Tensor(TensorDType.Int64, (long[])shape.Clone(), null, data);
    }

    public static long ElementCountOf(IReadOnlyList<long> shape)
    {
        long n = 1;
        foreach (var d in shape)
        {
            n = checked(n * d);
        }

        return n;
    }

    /// <summary>Hands this tensor's array back for reuse by later forwards. Call it when done
    /// with an output; the tensor must not be read afterwards.</summary>
    public void Recycle()
    {
        if (Float32Data is { } f)
        {
            TensorBufferPool.Return(f);
        }
        else if (Int64Data is { } l)
        {
            TensorBufferPool.Return(l);
        }
    }

    public string ShapeText() => FormatShape(Shape);

    public static string FormatShape(IReadOnlyList<long> shape) => "[" + string.Join(", ", shape) + "]";

    /// <summary>Rows [start, start+count) along the first dimension, copied.</summary>
    public Tensor SliceRows(long start, long count)
    {
        if (Shape.Count == 0)
        {
            throw new InvalidInputException("a scalar tensor has no rows");
        }

        var rowSize = ElementCountOf(Shape.Skip(1).ToArray());
        var shape = Shape.ToArray();
        shape[0] = count;
        var from = checked((int)(start * rowSize));
        var length = checked((int)(count * rowSize));
        return DType == TensorDType.Float32
            ? FromFloat32(Floats.AsSpan(from, length).ToArray(), shape)
            : FromInt64(Longs.AsSpan(from, length).ToArray(), shape);
    }

    /// <summary>Joins tensors of equal dtype and trailing shape along the first dimension.</summary>
    public static Tensor ConcatRows(IReadOnlyList<Tensor> parts)
    {
        if (parts.Count == 1)
        {
            return parts[0];
        }

        var first = parts[0];
        var rows = 0L;
        foreach (var p in parts)
        {
            if (p.DType != first.DType || !p.Shape.Skip(1).SequenceEqual(first.Shape.Skip(1)))
            {
                throw new InvalidInputException(
                    $"cannot batch {p.DType} {p.ShapeText()} with {first.DType} {first.ShapeText()}");
            }

            rows += p.Shape[0];
        }

        var shape = first.Shape.ToArray();
        shape[0] = rows;
        if (first.DType == TensorDType.Float32)
        {
            var data = TensorBufferPool.RentFloats(checked((int)ElementCountOf(shape)));
            var at = 0;
            foreach (var p in parts)
            {
                p.Floats.CopyTo(data, at);
                at += p.Floats.Length;
            }

            return FromFloat32(data, shape);
        }
        else
        {
            var data = TensorBufferPool.RentLongs(checked((int)ElementCountOf(shape)));
            var at = 0;
            foreach (var p in parts)
            {
                p.Longs.CopyTo(data, at);
                at += p.Longs.Length;
            }

            return FromInt64(data, shape);
        }
    }

    private static void Check(long length, long[] shape)
    {
        foreach (var d in shape)
        {
            if (d < 0)
            {
                throw new InvalidInputException($"negative dimension in shape {FormatShape(shape)}");
            }
        }

        if (ElementCountOf(shape) != length)
        {
            throw new InvalidInputException(
                $"shape {FormatShape(shape)} needs {ElementCountOf(shape)} elements but {length} were given");
        }
    }
}
