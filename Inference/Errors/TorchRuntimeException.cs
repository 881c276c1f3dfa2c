namespace Actors.Inference.Errors;

/// <summary>libtorch raised an error while running a model. <see cref="Exception.Message"/> is the
/// cause (one line); <see cref="Detail"/> keeps libtorch's full text.</summary>
public sealed class TorchRuntimeException(string message, string detail) : InferenceException(message)
{
    public string Detail { get; } = detail;

    public override string Code => "torch_error";
}
