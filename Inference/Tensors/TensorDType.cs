namespace Actors.Inference.Tensors;

/// <summary>The element types the bridge passes (tb_dtype).</summary>
public enum TensorDType
{
    Float32 = 0,
    Int64 = 1,
}
