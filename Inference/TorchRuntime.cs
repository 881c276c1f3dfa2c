using Actors.Inference.Errors;
using Actors.Inference.Native;

namespace Actors.Inference;

/// <summary>Process-wide libtorch facts and settings: versions, CUDA, threads, allocator.</summary>
public static class TorchRuntime
{
    private static readonly Lock Gate = new();
    private static bool s_configured;

    /// <summary>Loads the bridge or throws <see cref="TorchBridgeNotFoundException"/>.</summary>
    public static void EnsureLoaded() => TorchBridgeLibrary.Load();

    public static string? BridgePath => TorchBridgeLibrary.LoadedFrom;

    public static string BridgeVersion
    {
        get
        {
            EnsureLoaded();
            return TorchBridge.ReadString(TorchBridge.BridgeVersion());
        }
    }

    /// <summary>The bridge's optional parts, comma-separated ("cuda-graphs"); empty for a CPU build.</summary>
    public static string BridgeFeatures
    {
        get
        {
            EnsureLoaded();
            return TorchBridge.ReadString(TorchBridge.BridgeFeatures());
        }
    }

    public static string TorchVersion
    {
        get
        {
            EnsureLoaded();
            return TorchBridge.ReadString(TorchBridge.TorchVersion());
        }
    }

    public static bool CudaAvailable
    {
        get
        {
            EnsureLoaded();
            return TorchBridge.CudaIsAvailable() != 0;
        }
    }

    public static int CudaDeviceCount
    {
        get
        {
            EnsureLoaded();
            return TorchBridge.CudaDeviceCount();
        }
    }

    public static int Threads
    {
        get
        {
            EnsureLoaded();
            return TorchBridge.GetNumThreads();
        }
    }

    /// <summary>Applies thread count and allocator tuning once per process; later calls with
    /// other values are ignored (libtorch's pools cannot be re-sized safely at run time).</summary>
    public static void Configure(InferenceOptions options)
    {
        EnsureLoaded();
        lock (Gate)
        {
            if (s_configured)
            {
                return;
            }

            TorchBridge.SetNumThreads(options.Threads > 0 ? options.Threads : Environment.ProcessorCount);
            if (options.TuneAllocator)
            {
                var status = TorchBridge.TuneAllocator(1L << 30, 1L << 30, 64L << 20);
                if (status != BridgeStatus.Ok)
                {
                    throw new InvalidOperationException(TorchBridge.LastErrorMessage());
                }
            }

            s_configured = true;
        }
    }

    /// <summary>Turns "auto" into "cuda" when a GPU is usable, else "cpu"; checks others.</summary>
    public static string ResolveDevice(string requested)
    {
        var device = string.IsNullOrWhiteSpace(requested) ? "auto" : requested.Trim().ToLowerInvariant();
        if (device == "auto")
        {
            return CudaAvailable ? "cuda" : "cpu";
        }

        if (device == "cpu")
        {
            return device;
        }

        if (device == "cuda" || device.StartsWith("cuda:", StringComparison.Ordinal))
        {
            if (!CudaAvailable)
            {
                throw new DeviceUnavailableException(
                    $"device '{device}' was requested but CUDA is not available (libtorch {TorchVersion}, " +
                    $"{CudaDeviceCount} GPU(s) visible)");
            }

            if (device.Length > 5 && (!int.TryParse(device.AsSpan(5), out var index) || index < 0 || index >= CudaDeviceCount))
            {
                throw new DeviceUnavailableException(
                    $"device '{device}' is not one of the {CudaDeviceCount} CUDA device(s)");
            }

            return device;
        }

        throw new DeviceUnavailableException($"unknown device '{requested}': use auto, cpu, cuda or cuda:N");
    }

    /// <summary>Blocks until queued GPU work on the device finished (no-op on CPU).</summary>
    public static void Synchronize(string device)
    {
        if (TorchBridge.Synchronize(device) != BridgeStatus.Ok)
        {
            throw new DeviceUnavailableException(TorchBridge.LastErrorMessage());
        }
    }
}
