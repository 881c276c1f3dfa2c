namespace Actors.Inference.Errors;

/// <summary>The caller's input does not fit the model: shape, dtype, channels, parameters.</summary>
public sealed class InvalidInputException(string message) : InferenceException(message)
{
    public override string Code => "invalid_input";
}
