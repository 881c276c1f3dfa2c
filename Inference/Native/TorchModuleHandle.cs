using System.Runtime.InteropServices;

namespace Actors.Inference.Native;

/// <summary>Owns a tb_module*. P/Invoke add-refs it for the length of every call, so a module
/// disposed while a forward runs is freed only when that forward returns.</summary>
internal sealed class TorchModuleHandle : SafeHandle
{
    public TorchModuleHandle()
        : base(nint.Zero, ownsHandle: true)
    {
    }

    public TorchModuleHandle(nint handle)
        : this() => SetHandle(handle);

    public override bool IsInvalid => handle == nint.Zero;

    protected override bool ReleaseHandle()
    {
        TorchBridge.ModuleFree(handle);
        return true;
    }
}
