namespace Actors.Inference.Errors;

/// <summary>A model's file or manifest is missing, corrupt or not loadable on its device.</summary>
public sealed class ModelLoadException(string message, Exception? inner = null)
    : InferenceException(message, inner)
{
    public override string Code => "model_load_failed";
}
