namespace Actors.Inference.Errors;

/// <summary>The upload is not an image we can read: an unsupported type, corrupt or truncated.</summary>
public sealed class ImageFormatException(string message, Exception? inner = null)
    : InferenceException(message, inner)
{
    public override string Code => "unsupported_image";
}
