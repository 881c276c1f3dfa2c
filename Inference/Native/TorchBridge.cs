using System.Runtime.InteropServices;

namespace Actors.Inference.Native;

/// <summary>P/Invoke declarations for native/torchbridge/torchbridge.h.</summary>
internal static unsafe partial class TorchBridge
{
    public const string LibraryName = "torchbridge";

    static TorchBridge() => TorchBridgeLibrary.RegisterResolver();

    [LibraryImport(LibraryName, EntryPoint = "tb_bridge_version")]
    public static partial nint BridgeVersion();

    [LibraryImport(LibraryName, EntryPoint = "tb_bridge_features")]
    public static partial nint BridgeFeatures();

    [LibraryImport(LibraryName, EntryPoint = "tb_torch_version")]
    public static partial nint TorchVersion();

    [LibraryImport(LibraryName, EntryPoint = "tb_cuda_is_available")]
    public static partial int CudaIsAvailable();

    [LibraryImport(LibraryName, EntryPoint = "tb_cuda_device_count")]
    public static partial int CudaDeviceCount();

    [LibraryImport(LibraryName, EntryPoint = "tb_last_error")]
    public static partial nint LastError();

    [LibraryImport(LibraryName, EntryPoint = "tb_set_num_threads")]
    public static partial void SetNumThreads(int intraOp);

    [LibraryImport(LibraryName, EntryPoint = "tb_get_num_threads")]
    public static partial int GetNumThreads();

    [LibraryImport(LibraryName, EntryPoint = "tb_tune_allocator")]
    public static partial BridgeStatus TuneAllocator(long mmapThreshold, long trimThreshold, long topPad);

    [LibraryImport(LibraryName, EntryPoint = "tb_module_load", StringMarshalling = StringMarshalling.Utf8)]
    public static partial BridgeStatus ModuleLoad(string path, string device, int precision, int channelsLast, out nint module);

    [LibraryImport(LibraryName, EntryPoint = "tb_module_free")]
    public static partial void ModuleFree(nint module);

    [LibraryImport(LibraryName, EntryPoint = "tb_module_device")]
    public static partial nint ModuleDevice(TorchModuleHandle module);

    [LibraryImport(LibraryName, EntryPoint = "tb_module_freeze")]
    public static partial BridgeStatus ModuleFreeze(TorchModuleHandle module);

    [LibraryImport(LibraryName, EntryPoint = "tb_module_use_cuda_graphs")]
    public static partial BridgeStatus ModuleUseCudaGraphs(TorchModuleHandle module, int maxBatch);

    [LibraryImport(LibraryName, EntryPoint = "tb_module_graph_count")]
    public static partial int ModuleGraphCount(TorchModuleHandle module);

    [LibraryImport(LibraryName, EntryPoint = "tb_module_graph_failure")]
    public static partial nint ModuleGraphFailure(TorchModuleHandle module);

    [LibraryImport(LibraryName, EntryPoint = "tb_module_forward")]
    public static partial BridgeStatus ModuleForward(TorchModuleHandle module, NativeTensor* inputs, int inputCount, out nint outputs);

    [LibraryImport(LibraryName, EntryPoint = "tb_ddim_sample")]
    public static partial BridgeStatus DdimSample(TorchModuleHandle module, NativeTensor* inputs, int inputCount, double* alphaBar, int timesteps, out nint outputs);

    [LibraryImport(LibraryName, EntryPoint = "tb_outputs_count")]
    public static partial int OutputsCount(nint outputs);

    [LibraryImport(LibraryName, EntryPoint = "tb_outputs_get")]
    public static partial BridgeStatus OutputsGet(nint outputs, int index, out int dtype, out int ndim, out long* shape);

    [LibraryImport(LibraryName, EntryPoint = "tb_outputs_copy")]
    public static partial BridgeStatus OutputsCopy(nint outputs, int index, long rowStart, long rowCount, void* destination, long destinationBytes);

    [LibraryImport(LibraryName, EntryPoint = "tb_outputs_free")]
    public static partial void OutputsFree(nint outputs);

    [LibraryImport(LibraryName, EntryPoint = "tb_synchronize", StringMarshalling = StringMarshalling.Utf8)]
    public static partial BridgeStatus Synchronize(string device);

    public static string ReadString(nint text) => Marshal.PtrToStringUTF8(text) ?? string.Empty;

    public static string LastErrorMessage() => ReadString(LastError());
}
