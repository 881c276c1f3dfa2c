using Actors.Grains.Jobs;
using Actors.Inference.Pipelines;

namespace Actors.Jobs;

/// <summary>A job's parameters and input as the inference engine takes them: the API validates
/// with it, the GPU host runs with it, so both see the same request.</summary>
public static class JobInference
{
    public static InferenceRequest ToInferenceRequest(this JobParameters p, ReadOnlyMemory<byte> input, string contentType) => new()
    {
        Input = input,
        ContentType = contentType,
        Shape = p.Shape,
        SpacingXMm = p.SpacingXMm,
        SpacingYMm = p.SpacingYMm,
        SliceThicknessMm = p.SliceThicknessMm,
        Steps = p.Steps,
        Seed = p.Seed,
        Prompt = p.Prompt,
        Guidance = p.Guidance,
    };
}
