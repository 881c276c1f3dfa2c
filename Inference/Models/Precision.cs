namespace Actors.Inference.Models;

/// <summary>How a model computes on its device (the bridge's tb_precision, same numbers).</summary>
public enum Precision
{
    /// <summary>float32; on CUDA with TF32 off in cuBLAS and cuDNN.</summary>
    Fp32 = 0,

    /// <summary>float32 tensors, TF32 tensor-core matmuls and convolutions (CUDA; plain float32 on CPU).</summary>
    Tf32 = 1,

    /// <summary>Autocast: convolutions and matrix products in bfloat16, the rest in float32.</summary>
    Bf16Autocast = 2,

    /// <summary>Autocast to float16 (CUDA only).</summary>
    Fp16Autocast = 3,

    /// <summary>Weights, buffers and floating inputs cast to bfloat16.</summary>
    Bf16 = 4,

    /// <summary>Weights, buffers and floating inputs cast to float16: a half export (CUDA only).</summary>
    Fp16 = 5,
}

public static class Precisions
{
    private static readonly Dictionary<string, Precision> ByName = new(StringComparer.OrdinalIgnoreCase)
    {
        ["fp32"] = Precision.Fp32,
        ["tf32"] = Precision.Tf32,
        ["bf16-autocast"] = Precision.Bf16Autocast,
        ["fp16-autocast"] = Precision.Fp16Autocast,
        ["bf16"] = Precision.Bf16,
        ["fp16"] = Precision.Fp16,
    };

    public static IReadOnlyCollection<string> Names => ByName.Keys;

    public static bool TryParse(string? name, out Precision precision) => ByName.TryGetValue(name ?? "", out precision);

    public static string Name(this Precision precision) => ByName.First(p => p.Value == precision).Key;

    /// <summary>How far (max |difference| over the reference output's scale) a precision may
    /// move the outputs from the float32 reference when the manifest states no tolerance.</summary>
    public static double DefaultTolerance(this Precision precision) => precision switch
    {
        Precision.Fp32 => 2e-2, // cuDNN and oneDNN pick different algorithms per machine
        Precision.Tf32 => 2e-2,
        Precision.Fp16Autocast or Precision.Fp16 => 3e-2,
        _ => 6e-2, // bfloat16 keeps 8 bits of mantissa
    };
}
