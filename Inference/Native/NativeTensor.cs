using System.Runtime.InteropServices;

namespace Actors.Inference.Native;

/// <summary>tb_tensor from torchbridge.h: a borrowed view of pinned managed memory.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct NativeTensor
{
    public int DType;
    public int NDim;
    public long* Shape;
    public void* Data;
}
