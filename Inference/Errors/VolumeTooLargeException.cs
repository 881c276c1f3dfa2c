namespace Actors.Inference.Errors;

/// <summary>The volume (its upload, or its voxels once decompressed) is over the configured limit.</summary>
public sealed class VolumeTooLargeException(string message) : InferenceException(message)
{
    public override string Code => "volume_too_large";
}
