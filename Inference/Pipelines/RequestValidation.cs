using Actors.Inference.Errors;
using Actors.Inference.Models;

namespace Actors.Inference.Pipelines;

/// <summary>Checks a request against a model's manifest without running it (no libtorch): the
/// API answers bad uploads and parameters at once instead of failing the job on a GPU host.
/// Throws the same typed errors the pipelines would.</summary>
public static class RequestValidation
{
    public static void Check(ModelManifest manifest, InferenceRequest request, long maxPixels, long maxVoxelBytes = 256L << 20)
    {
        switch (manifest.Task)
        {
            case "diffusion":
                DiffusionPipeline.Resolve(manifest, request);
                return;
            case "segmentation" when SegmentationPipeline.IsVolume(request):
                Volumes.Nifti.Inspect(request.Input, maxVoxelBytes); // header, dtype, dimensions, truncation
                return;
            case "segmentation":
                SegmentationPipeline.CheckSpacing(request);
                break;
        }

        var (tensor, _) = ImageInput.ToTensor(request, manifest, maxPixels); // decodes and checks shape, channels, values
        tensor.Recycle();
    }
}
