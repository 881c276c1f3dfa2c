namespace Actors.Inference.Tests;

/// <summary>Where the tests find models and which device they run on. CI runs on CPU; on a
/// GPU machine set INFERENCE_DEVICE=cuda (and ACTORS_MODELS_PATH for a published copy).</summary>
internal static class TestEnvironment
{
    public static string Device => Environment.GetEnvironmentVariable("INFERENCE_DEVICE") is { Length: > 0 } d ? d : "cpu";

    public static bool OnCuda => Device.StartsWith("cuda", StringComparison.Ordinal);

    public static string ModelsPath
    {
        get
        {
            if (Environment.GetEnvironmentVariable("ACTORS_MODELS_PATH") is { Length: > 0 } configured)
            {
                return configured;
            }

            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "models");
                if (File.Exists(Path.Combine(candidate, "export.py")) || Directory.Exists(Path.Combine(candidate, "segmentation")))
                {
                    return candidate;
                }
            }

            throw new DirectoryNotFoundException("models/ not found above " + AppContext.BaseDirectory);
        }
    }

    public static InferenceOptions Options(int maxQueued = 1024) => new()
    {
        Device = Device,
        ModelsPath = ModelsPath,
        Threads = 0,
        MaxQueuedPerModel = maxQueued,
    };
}
