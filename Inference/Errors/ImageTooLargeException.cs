namespace Actors.Inference.Errors;

/// <summary>The image's declared size is over the configured limit; nothing was allocated for it.</summary>
public sealed class ImageTooLargeException(string message) : InferenceException(message)
{
    public override string Code => "image_too_large";
}
