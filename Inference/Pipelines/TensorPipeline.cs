namespace Actors.Inference.Pipelines;

/// <summary>Raw float32 (or a PNG) in, the first output tensor back as numbers: for models whose
/// answer needs no interpretation (and the identity model that measures the cluster itself).</summary>
internal static class TensorPipeline
{
    public static async Task<TensorOutput> RunAsync(LoadedModel model, InferenceRequest request, long maxPixels, CancellationToken ct)
    {
        var (input, _) = ImageInput.ToTensor(request, model.Manifest, maxPixels);
        var outputs = await model.ForwardAsync([input], ct);
        return new TensorOutput
        {
            Model = model.Manifest.Name,
            Version = model.Manifest.Version,
            Device = model.Device,
            Shape = outputs[0].Shape,
            Values = outputs[0].Floats,
        };
    }
}
