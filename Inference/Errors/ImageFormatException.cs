namespace Actors.Inference.Errors;

/// <summary>The upload is not a PNG we can read: corrupt, truncated, or an unsupported variant.</summary>
public sealed class ImageFormatException(string message, Exception? inner = null)
    : InferenceException(message, inner)
{
    public override string Code => "unsupported_image";
}
