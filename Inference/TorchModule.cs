using System.Buffers;
using Actors.Inference.Errors;
using Actors.Inference.Models;
using Actors.Inference.Native;
using Actors.Inference.Tensors;

namespace Actors.Inference;

/// <summary>A TorchScript module loaded on one device. Forward is thread-safe; Dispose frees
/// the native module once no forward is using it.</summary>
public sealed class TorchModule : IDisposable
{
    private readonly TorchModuleHandle _handle;

    private TorchModule(TorchModuleHandle handle, string path, string device, Precision precision, bool channelsLast)
    {
        _handle = handle;
        Path = path;
        Device = device;
        Precision = precision;
        ChannelsLast = channelsLast;
    }

    public string Path { get; }

    public string Device { get; }

    public Precision Precision { get; }

    public bool ChannelsLast { get; }

    public static TorchModule Load(string path, string device, Precision precision = Precision.Fp32, bool channelsLast = false)
    {
        TorchRuntime.EnsureLoaded();
        var full = System.IO.Path.GetFullPath(path);
        var status = TorchBridge.ModuleLoad(full, device, (int)precision, channelsLast ? 1 : 0, out var raw);
        if (status == BridgeStatus.Device)
        {
            throw new DeviceUnavailableException(FirstLine(TorchBridge.LastErrorMessage()));
        }

        if (status != BridgeStatus.Ok)
        {
            var message = TorchBridge.LastErrorMessage();
            throw new ModelLoadException(FirstLine(message), new InvalidOperationException(message));
        }

        var handle = new TorchModuleHandle(raw);
        return new TorchModule(handle, full, TorchBridge.ReadString(TorchBridge.ModuleDevice(handle)), precision, channelsLast);
    }

    /// <summary>True once <see cref="Freeze"/> has succeeded.</summary>
    public bool Frozen { get; private set; }

    /// <summary>Freezes the module for inference (torch.jit.freeze and optimize_for_inference:
    /// weights as constants, batch norms folded into convolutions, oneDNN layouts on CPU); call
    /// before the first forward. Throws <see cref="ModelLoadException"/> with libtorch's cause.</summary>
    public void Freeze()
    {
        if (TorchBridge.ModuleFreeze(_handle) != BridgeStatus.Ok)
        {
            var message = TorchBridge.LastErrorMessage();
            throw new ModelLoadException(FirstLine(message), new InvalidOperationException(message));
        }

        Frozen = true;
    }

    /// <summary>True once <see cref="UseCudaGraphs"/> has succeeded.</summary>
    public bool CudaGraphs { get; private set; }

    /// <summary>Graphs captured so far (one per padded batch shape; a sampling run's one-step graph
    /// per padded rows, whatever its step count); 0 without
    /// graphs or once unloaded (a status read may race an unload).</summary>
    public int GraphCount => CudaGraphs ? UnlessUnloaded(() => TorchBridge.ModuleGraphCount(_handle), 0) : 0;

    /// <summary>The first graph capture that failed (its shape and libtorch's cause), or null;
    /// that shape runs eagerly.</summary>
    public string? GraphFailure => CudaGraphs
        ? UnlessUnloaded(() => TorchBridge.ReadString(TorchBridge.ModuleGraphFailure(_handle)) is { Length: > 0 } f ? f : null, null)
        : null;

    private static T UnlessUnloaded<T>(Func<T> read, T unloaded)
    {
        try
        {
            return read();
        }
        catch (ObjectDisposedException)
        {
            return unloaded;
        }
    }

    /// <summary>CUDA graphs for batches of up to <paramref name="maxBatch"/> rows (padded to a
    /// few sizes: powers of two up to 8, then eight per doubling); call before the first forward. Throws <see cref="DeviceUnavailableException"/>
    /// on a CPU module or where the bridge was built without them.</summary>
    public void UseCudaGraphs(int maxBatch)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatch, 1);
        if (TorchBridge.ModuleUseCudaGraphs(_handle, maxBatch) != BridgeStatus.Ok)
        {
            throw new DeviceUnavailableException(FirstLine(TorchBridge.LastErrorMessage()));
        }

        CudaGraphs = true;
    }

    public Tensor[] Forward(params Tensor[] inputs) => Forward((IReadOnlyList<Tensor>)inputs);

    public Tensor[] Forward(IReadOnlyList<Tensor> inputs) => ForwardSplit(inputs, null)[0];

    /// <summary>One forward over rows that belong to several callers: the outputs come back
    /// split by <paramref name="rowsPerPart"/> (null: one part), each part copied straight
    /// from the device into its own array. An output without the batch dimension is given
    /// whole to every part.</summary>
    public unsafe Tensor[][] ForwardSplit(IReadOnlyList<Tensor> inputs, IReadOnlyList<int>? rowsPerPart) =>
        Call(inputs, rowsPerPart, static (TorchModuleHandle handle, NativeTensor* natives, int count, out nint outputs) =>
            TorchBridge.ModuleForward(handle, natives, count, out outputs));

    /// <summary>DDIM on the device (tb_ddim_sample): <paramref name="inputs"/> are the model's
    /// with input 0 the noise x_T and input 1 an int64 [rows, steps] schedule (-1 padded); the
    /// one output, the last x0 estimate, comes back split like <see cref="ForwardSplit"/>.</summary>
    public unsafe Tensor[][] SampleSplit(IReadOnlyList<Tensor> inputs, IReadOnlyList<int>? rowsPerPart, double[] alphaBar)
    {
        fixed (double* abar = alphaBar)
        {
            var pointer = (nint)abar;
            var timesteps = alphaBar.Length;
            return Call(inputs, rowsPerPart, (TorchModuleHandle handle, NativeTensor* natives, int count, out nint outputs) =>
                TorchBridge.DdimSample(handle, natives, count, (double*)pointer, timesteps, out outputs));
        }
    }

    private unsafe delegate BridgeStatus NativeCall(TorchModuleHandle handle, NativeTensor* inputs, int count, out nint outputs);

    private unsafe Tensor[][] Call(IReadOnlyList<Tensor> inputs, IReadOnlyList<int>? rowsPerPart, NativeCall call)
    {
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        var count = inputs.Count;
        var pins = new MemoryHandle[count * 2];
        var natives = stackalloc NativeTensor[Math.Max(count, 1)];
        try
        {
            for (var i = 0; i < count; i++)
            {
                var t = inputs[i];
                var shape = t.Shape.ToArray();
                pins[2 * i] = shape.AsMemory().Pin();
                pins[2 * i + 1] = t.DType == TensorDType.Float32 ? t.Floats.AsMemory().Pin() : t.Longs.AsMemory().Pin();
                natives[i] = new NativeTensor
                {
                    DType = (int)t.DType,
                    NDim = shape.Length,
                    Shape = (long*)pins[2 * i].Pointer,
                    Data = pins[2 * i + 1].Pointer,
                };
            }

            var status = call(_handle, natives, count, out var outputs);
            if (status != BridgeStatus.Ok)
            {
                var message = TorchBridge.LastErrorMessage();
                throw new TorchRuntimeException(FirstLine(message), message);
            }

            try
            {
                return ReadOutputs(outputs, rowsPerPart);
            }
            finally
            {
                TorchBridge.OutputsFree(outputs);
            }
        }
        finally
        {
            foreach (var pin in pins)
            {
                pin.Dispose();
            }
        }
    }

    public void Dispose() => _handle.Dispose();

    private static unsafe Tensor[][] ReadOutputs(nint outputs, IReadOnlyList<int>? rowsPerPart)
    {
        var n = TorchBridge.OutputsCount(outputs);
        var parts = rowsPerPart?.Count ?? 1;
        var result = new Tensor[parts][];
        for (var p = 0; p < parts; p++)
        {
            result[p] = new Tensor[n];
        }

        for (var i = 0; i < n; i++)
        {
            if (TorchBridge.OutputsGet(outputs, i, out var dtype, out var ndim, out var shapePtr) != BridgeStatus.Ok)
            {
                var message = TorchBridge.LastErrorMessage();
                throw new TorchRuntimeException(FirstLine(message), message);
            }

            var shape = new ReadOnlySpan<long>(shapePtr, ndim).ToArray();
            var total = rowsPerPart?.Sum() ?? -1;
            var batched = rowsPerPart is not null && ndim > 0 && shape[0] == total;
            long start = 0;
            for (var p = 0; p < parts; p++)
            {
                var rows = batched ? rowsPerPart![p] : -1;
                var partShape = (long[])shape.Clone();
                if (batched)
                {
                    partShape[0] = rows;
                }

                result[p][i] = Copy(outputs, i, (TensorDType)dtype, partShape, start, rows);
                start += Math.Max(rows, 0);
            }
        }

        return result;
    }

    private static unsafe Tensor Copy(nint outputs, int index, TensorDType dtype, long[] shape, long rowStart, long rowCount)
    {
        var count = checked((int)Tensor.ElementCountOf(shape));
        BridgeStatus status;
        Tensor tensor;
        if (dtype == TensorDType.Float32)
        {
            var values = TensorBufferPool.RentFloats(count);
            fixed (float* p = values)
            {
                status = TorchBridge.OutputsCopy(outputs, index, rowStart, rowCount, p, (long)count * sizeof(float));
            }

            tensor = Tensor.FromFloat32(values, shape);
        }
        else
        {
            var values = TensorBufferPool.RentLongs(count);
            fixed (long* p = values)
            {
                status = TorchBridge.OutputsCopy(outputs, index, rowStart, rowCount, p, (long)count * sizeof(long));
            }

            tensor = Tensor.FromInt64(values, shape);
        }

        if (status != BridgeStatus.Ok)
        {
            var message = TorchBridge.LastErrorMessage();
            throw new TorchRuntimeException(FirstLine(message), message);
        }

        return tensor;
    }

    private static string FirstLine(string message)
    {
        var end = message.IndexOf('\n', StringComparison.Ordinal);
        return end < 0 ? message : message[..end];
    }
}
