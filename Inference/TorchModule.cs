using System.Buffers;
using Actors.Inference.Errors;
using Actors.Inference.Native;
using Actors.Inference.Tensors;

namespace Actors.Inference;

/// <summary>A TorchScript module loaded on one device. Forward is thread-safe; Dispose frees
/// the native module once no forward is using it.</summary>
public sealed class TorchModule : IDisposable
{
    private readonly TorchModuleHandle _handle;

    private TorchModule(TorchModuleHandle handle, string path, string device)
    {
        _handle = handle;
        Path = path;
        Device = device;
    }

    public string Path { get; }

    public string Device { get; }

    public static TorchModule Load(string path, string device)
    {
        TorchRuntime.EnsureLoaded();
        var full = System.IO.Path.GetFullPath(path);
        var status = TorchBridge.ModuleLoad(full, device, out var raw);
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
        return new TorchModule(handle, full, TorchBridge.ReadString(TorchBridge.ModuleDevice(handle)));
    }

    public Tensor[] Forward(params Tensor[] inputs) => Forward((IReadOnlyList<Tensor>)inputs);

    public unsafe Tensor[] Forward(IReadOnlyList<Tensor> inputs)
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

            var status = TorchBridge.ModuleForward(_handle, natives, count, out var outputs);
            if (status != BridgeStatus.Ok)
            {
                var message = TorchBridge.LastErrorMessage();
                throw new TorchRuntimeException(FirstLine(message), message);
            }

            try
            {
                return ReadOutputs(outputs);
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

    private static unsafe Tensor[] ReadOutputs(nint outputs)
    {
        var n = TorchBridge.OutputsCount(outputs);
        var result = new Tensor[n];
        for (var i = 0; i < n; i++)
        {
            if (TorchBridge.OutputsGet(outputs, i, out var dtype, out var ndim, out var shapePtr, out var data, out var bytes) != BridgeStatus.Ok)
            {
                throw new TorchRuntimeException(TorchBridge.LastErrorMessage(), TorchBridge.LastErrorMessage());
            }

            var shape = new ReadOnlySpan<long>(shapePtr, ndim).ToArray();
            if (dtype == (int)TensorDType.Float32)
            {
                var values = new float[bytes / sizeof(float)];
                new ReadOnlySpan<float>(data, values.Length).CopyTo(values);
                result[i] = Tensor.FromFloat32(values, shape);
            }
            else
            {
                var values = new long[bytes / sizeof(long)];
                new ReadOnlySpan<long>(data, values.Length).CopyTo(values);
                result[i] = Tensor.FromInt64(values, shape);
            }
        }

        return result;
    }

    private static string FirstLine(string message)
    {
        var end = message.IndexOf('\n', StringComparison.Ordinal);
        return end < 0 ? message : message[..end];
    }
}
