namespace Actors.Inference.Pipelines;

/// <summary>Image → per-finding probabilities (the exported model applies the sigmoid).</summary>
internal static class ClassificationPipeline
{
    public static async Task<ClassificationOutput> RunAsync(LoadedModel model, InferenceRequest request, long maxPixels, CancellationToken ct)
    {
        var manifest = model.Manifest;
        var (input, _) = ImageInput.ToTensor(request, manifest, maxPixels);
        var outputs = await model.ForwardAsync([input], ct);
        var probabilities = outputs[0].Floats;
        var threshold = manifest.Postprocess.Threshold;
        var findings = probabilities
            .Select((p, i) => new FindingProbability(
                i < manifest.Labels.Count ? manifest.Labels[i] : $"label{i}", Math.Round(p, 6), p >= threshold))
            .ToList();
        return new ClassificationOutput
        {
            Model = manifest.Name,
            Version = manifest.Version,
            Device = model.Device,
            Findings = findings,
        };
    }
}
