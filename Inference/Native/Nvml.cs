using System.Runtime.InteropServices;
using System.Text;

namespace Actors.Inference.Native;

/// <summary>The few calls of NVIDIA's management library (libnvidia-ml) the GPU gauges need,
/// bound at run time: on a machine without it nothing is loaded and <see cref="TryStart"/> says so.</summary>
internal static unsafe class Nvml
{
    private static delegate* unmanaged<int> _init;
    private static delegate* unmanaged<uint*, int> _count;
    private static delegate* unmanaged<uint, nint*, int> _handle;
    private static delegate* unmanaged<nint, UtilizationRates*, int> _utilization;
    private static delegate* unmanaged<nint, MemoryInfoT*, int> _memory;
    private static delegate* unmanaged<nint, byte*, uint, int> _name;
    private static readonly Lock Gate = new();
    private static bool? _started;

    /// <summary>Loads and initialises NVML once; false where there is none (no NVIDIA driver).</summary>
    public static bool TryStart()
    {
        lock (Gate)
        {
            if (_started is { } started)
            {
                return started;
            }

            _started = false;
            if (!NativeLibrary.TryLoad("libnvidia-ml.so.1", out var lib) && !NativeLibrary.TryLoad("nvml", out lib))
            {
                return false;
            }

            if (!NativeLibrary.TryGetExport(lib, "nvmlInit_v2", out var init) || !NativeLibrary.TryGetExport(lib, "nvmlDeviceGetCount_v2", out var count)
                || !NativeLibrary.TryGetExport(lib, "nvmlDeviceGetHandleByIndex_v2", out var handle) || !NativeLibrary.TryGetExport(lib, "nvmlDeviceGetUtilizationRates", out var utilization)
                || !NativeLibrary.TryGetExport(lib, "nvmlDeviceGetMemoryInfo", out var memory) || !NativeLibrary.TryGetExport(lib, "nvmlDeviceGetName", out var name))
            {
                return false;
            }

            _init = (delegate* unmanaged<int>)init;
            _count = (delegate* unmanaged<uint*, int>)count;
            _handle = (delegate* unmanaged<uint, nint*, int>)handle;
            _utilization = (delegate* unmanaged<nint, UtilizationRates*, int>)utilization;
            _memory = (delegate* unmanaged<nint, MemoryInfoT*, int>)memory;
            _name = (delegate* unmanaged<nint, byte*, uint, int>)name;
            _started = _init() == 0;
            return _started.Value;
        }
    }

    public static int DeviceCount()
    {
        uint n;
        return _count(&n) == 0 ? (int)n : 0;
    }

    public static string Name(int index)
    {
        var buffer = stackalloc byte[96];
        return Handle(index) is { } h && _name(h, buffer, 96) == 0 ? Encoding.UTF8.GetString(new ReadOnlySpan<byte>(buffer, 96)).TrimEnd('\0') : $"gpu{index}";
    }

    /// <summary>Share of the last sample period the GPU was busy (0–1), or null if unreadable.</summary>
    public static double? Utilization(int index)
    {
        UtilizationRates u;
        return Handle(index) is { } h && _utilization(h, &u) == 0 ? u.Gpu / 100.0 : null;
    }

    public static (ulong Used, ulong Total)? MemoryInfo(int index)
    {
        MemoryInfoT m;
        return Handle(index) is { } h && _memory(h, &m) == 0 ? (m.Used, m.Total) : null;
    }

    private static nint? Handle(int index)
    {
        nint h;
        return _handle((uint)index, &h) == 0 ? h : null;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct UtilizationRates
    {
        public uint Gpu;
        public uint Memory;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct MemoryInfoT
    {
        public ulong Total;
        public ulong Free;
        public ulong Used;
    }
}
