using Actors.Inference.Errors;
using Actors.Inference.Tensors;

namespace Actors.Inference.Models;

/// <summary>A manifest and the folder it was read from.</summary>
public sealed record ModelDefinition(ModelManifest Manifest, string Directory)
{
    public string Name => Manifest.Name;

    public string ModelFile => Path.Combine(Directory, Manifest.File);

    /// <summary>Reads a reference tensor file (raw little-endian) named by the manifest.</summary>
    public Tensor ReadReference(ReferenceTensor reference)
    {
        var path = Path.Combine(Directory, reference.File);
        if (!File.Exists(path))
        {
            throw new ModelLoadException($"reference file missing: {path}");
        }

        var bytes = File.ReadAllBytes(path);
        var shape = reference.Shape.ToArray();
        var count = Tensor.ElementCountOf(shape);
        return reference.Dtype switch
        {
            "float32" when bytes.Length == count * 4 => Tensor.FromFloat32(
                System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes).ToArray(), shape),
            "int64" when bytes.Length == count * 8 => Tensor.FromInt64(
                System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(bytes).ToArray(), shape),
            _ => throw new ModelLoadException(
                $"reference {path}: {bytes.Length} bytes do not hold {reference.Dtype} {Tensor.FormatShape(shape)}"),
        };
    }
}
